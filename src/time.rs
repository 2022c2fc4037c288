//! Calendar arithmetic and the cut of instants into local days.
//!
//! Every period the engine reports (day, ISO week, month) is a union of
//! local days, so the hot path only maps an instant (epoch milliseconds,
//! UTC) to a local day number; weeks and months are derived from day
//! numbers once, at the end. A day number counts days since 1970-01-01 in
//! the civil calendar, which is exactly Arrow's `Date32`.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};

/// Milliseconds in a standard day.
const MS_PER_DAY: i64 = 86_400_000;
/// Days held by the cache of [`LocalDays`] (about three years).
const SLOTS: usize = 1024;

/// Returns the day number (days since 1970-01-01) of a civil date.
///
/// Uses the proleptic Gregorian calendar; valid for every `i16` year.
pub fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    // Shift the year so that it starts in March: the leap day is then the
    // last day of the shifted year and month lengths follow a fixed cycle.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Returns `(year, month, day)` of a day number; inverse of
/// [`days_from_civil`].
pub fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i32::from(month <= 2);
    (year, month, day)
}

/// Day number of the Monday that starts the ISO week holding `day`.
pub fn week_start(day: i32) -> i32 {
    // 1970-01-01 was a Thursday, three days after a Monday.
    day - (day + 3).rem_euclid(7)
}

/// Day number of the first day of the month holding `day`.
pub fn month_start(day: i32) -> i32 {
    let (_, _, d) = civil_from_days(day);
    day - (d as i32 - 1)
}

/// Day number of the first day of the month after the one holding `day`.
pub fn next_month_start(day: i32) -> i32 {
    let (y, m, _) = civil_from_days(day);
    if m == 12 { days_from_civil(y + 1, 1, 1) } else { days_from_civil(y, m + 1, 1) }
}

/// Number of days in a month of the proleptic Gregorian calendar.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Formats a day number as `YYYY-MM-DD`.
pub fn format_day(day: i32) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parses `YYYY-MM-DD` (exactly: four-digit year, two-digit month and
/// day, a date of the calendar) into a day number.
pub fn parse_day(text: &str) -> Option<i32> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i32> {
        b[r].iter().try_fold(0i32, |n, &c| c.is_ascii_digit().then(|| n * 10 + i32::from(c - b'0')))
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    Date::new(y as i16, m as i8, d as i8).ok()?;
    Some(days_from_civil(y, m as u32, d as u32))
}

/// Formats epoch milliseconds as an RFC 3339 UTC instant.
pub fn format_ms(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(ts) => ts.to_string(),
        Err(_) => ms.to_string(),
    }
}

/// One local day as the cache holds it: its bounds, and the UTC offset
/// before and after the DST change it may hold.
#[derive(Clone, Copy, Debug, Default)]
struct CachedDay {
    start: i64,
    end: i64,
    day: i32,
    offset_ms: i64,
    /// First instant of the second offset (`end` when the day has one).
    shift: i64,
    offset_after_ms: i64,
}

/// Maps instants to local days (and hours) in one time zone, with a small
/// cache.
///
/// Logs are mostly in time order, so nearly every lookup hits the cache and
/// costs a few comparisons; a miss asks the time zone database once for the
/// whole local day. Each worker owns one (it is cheap to clone).
#[derive(Clone)]
pub struct LocalDays {
    tz: TimeZone,
    /// Direct-mapped cache of local days, by day number: large enough that
    /// sessionization, which walks each user's events over months, hits it
    /// as often as the scan of a time-ordered dump does.
    slots: Box<[CachedDay; SLOTS]>,
    /// Last wall-clock hour converted by [`LocalDays::naive_to_ms`] (hours
    /// since 1970-01-01 00:00 local) and its UTC offset.
    naive_hour: i64,
    naive_offset_ms: i64,
}

impl LocalDays {
    /// Creates a mapper for `tz`.
    pub fn new(tz: TimeZone) -> LocalDays {
        LocalDays {
            tz,
            slots: Box::new([CachedDay::default(); SLOTS]),
            naive_hour: i64::MIN,
            naive_offset_ms: 0,
        }
    }

    /// Returns the local day number holding the instant `ms`, or `None`
    /// when the instant is outside the range the calendar supports.
    #[inline]
    pub fn day_of(&mut self, ms: i64) -> Option<i32> {
        self.locate(ms).map(|(day, _)| day)
    }

    /// Returns the local day number and the local hour (0-23, as on a wall
    /// clock: on a day the clocks go back, hour 2 comes twice) of `ms`.
    #[inline]
    pub fn locate(&mut self, ms: i64) -> Option<(i32, u8)> {
        let slot = (ms.div_euclid(MS_PER_DAY) as usize) % SLOTS;
        let mut d = self.slots[slot];
        if ms < d.start || ms >= d.end {
            d = self.lookup(ms)?;
            self.slots[slot] = d;
        }
        let offset = if ms < d.shift { d.offset_ms } else { d.offset_after_ms };
        let hour = (ms + offset).rem_euclid(MS_PER_DAY) / 3_600_000;
        Some((d.day, hour as u8))
    }

    fn lookup(&self, ms: i64) -> Option<CachedDay> {
        let ts = Timestamp::from_millisecond(ms).ok()?;
        let date = self.tz.to_datetime(ts).date();
        let start = self.day_start_ms(date)?;
        let end = self.day_start_ms(date.tomorrow().ok()?)?;
        let day = days_from_civil(i32::from(date.year()), date.month() as u32, date.day() as u32);
        let offset_at = |ms: i64| -> Option<i64> {
            let ts = Timestamp::from_millisecond(ms).ok()?;
            Some(i64::from(self.tz.to_offset(ts).seconds()) * 1000)
        };
        let (first, last) = (offset_at(start)?, offset_at(end - 1)?);
        // A DST change inside the day: find its instant by bisection.
        let (mut lo, mut hi) = (start, end - 1);
        if first != last {
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_at(mid)? == first { lo = mid } else { hi = mid }
            }
        } else {
            hi = end;
        }
        Some(CachedDay { start, end, day, offset_ms: first, shift: hi, offset_after_ms: last })
    }

    /// The instant local midnight starts `date` (the first instant of the
    /// day when midnight itself is skipped by a DST change).
    fn day_start_ms(&self, date: Date) -> Option<i64> {
        let midnight = DateTime::from(date);
        let zdt = midnight.to_zoned_datetime(self.tz.clone()).ok()?;
        Some(zdt.start_of_day().ok()?.timestamp().as_millisecond())
    }

    /// Converts a local wall-clock time to epoch milliseconds. A time in a
    /// DST gap is moved forward by the gap; a time repeated by a DST fold
    /// takes its first (earlier) instant. Returns `None` when out of range.
    pub fn local_to_ms(&self, dt: DateTime) -> Option<i64> {
        let ts = self.tz.to_ambiguous_timestamp(dt).compatible().ok()?;
        Some(ts.as_millisecond())
    }

    /// Converts a wall-clock time given as milliseconds since 1970-01-01
    /// 00:00 *local* (a `timestamp without time zone`) to epoch ms, with
    /// the rules of [`LocalDays::local_to_ms`]. Whole hours with one
    /// unambiguous offset are cached, so a time-ordered input asks the
    /// time zone database about once an hour.
    #[inline]
    pub fn naive_to_ms(&mut self, naive_ms: i64) -> Option<i64> {
        let hour = naive_ms.div_euclid(3_600_000);
        if hour == self.naive_hour {
            return Some(naive_ms - self.naive_offset_ms);
        }
        let wall = |ms: i64| -> Option<DateTime> {
            Some(TimeZone::UTC.to_datetime(Timestamp::from_millisecond(ms).ok()?))
        };
        let offset = |ms: i64| -> Option<i64> {
            match self.tz.to_ambiguous_timestamp(wall(ms)?).offset() {
                AmbiguousOffset::Unambiguous { offset } => Some(i64::from(offset.seconds()) * 1000),
                _ => None,
            }
        };
        let start = hour * 3_600_000;
        match (offset(start), offset(start + 3_599_999)) {
            (Some(a), Some(b)) if a == b => {
                (self.naive_hour, self.naive_offset_ms) = (hour, a);
                Some(naive_ms - a)
            }
            // An hour a DST change cuts: each time on its own.
            _ => self.local_to_ms(wall(naive_ms)?),
        }
    }
}

/// Parses an ISO-8601 / RFC 3339 instant as written by `mongoexport`
/// (`2020-03-16T08:00:00.123Z`, `...+01:00`, `...+0100`) into epoch
/// milliseconds. Fractions beyond milliseconds are truncated. A time
/// without offset is taken as UTC, as `mongoexport` means it.
pub fn parse_iso_ms(s: &[u8]) -> Option<i64> {
    let num = |a: usize, b: usize| -> Option<i32> {
        let digits = s.get(a..b)?;
        let mut v = 0i32;
        for &c in digits {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i32::from(c - b'0');
        }
        Some(v)
    };
    if s.len() < 19 || s[4] != b'-' || s[7] != b'-' || !matches!(s[10], b'T' | b' ') {
        return None;
    }
    if s[13] != b':' || s[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, min, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    // Validate through jiff so that 2020-02-30 or 25:00 are refused.
    Date::new(year as i16, month as i8, day as i8).ok()?;
    if hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if s.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < s.len() && s[i].is_ascii_digit() {
            if i - start < 3 {
                millis = millis * 10 + i64::from(s[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..3 {
            millis *= 10;
        }
    }
    let offset_min: i64 = match &s[i..] {
        b"" | b"Z" | b"z" => 0,
        rest if rest.len() == 6 && rest[3] == b':' || rest.len() == 5 || rest.len() == 3 => {
            let sign = match rest[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let h = num(i + 1, i + 3)?;
            let m = match rest.len() {
                6 => num(i + 4, i + 6)?,
                5 => num(i + 3, i + 5)?,
                // PostgreSQL writes whole-hour offsets as `+01`.
                _ => 0,
            };
            sign * i64::from(h * 60 + m)
        }
        _ => return None,
    };
    let days = i64::from(days_from_civil(year, month as u32, day as u32));
    let secs = days * 86_400 + i64::from(hour * 3600 + min * 60 + sec.min(59));
    Some((secs - offset_min * 60) * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn days_are_read_strictly() {
        assert_eq!(parse_day("2020-03-01"), Some(18_322));
        assert_eq!(parse_day("0001-01-01"), Some(days_from_civil(1, 1, 1)));
        for bad in
            ["2020-3-01", "2020-02-30", "2020-13-01", "20200301", "2020-03-01 ", "+020-03-01"]
        {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }

    fn paris() -> LocalDays {
        LocalDays::new(TimeZone::get("Europe/Paris").unwrap())
    }

    fn ms(s: &str) -> i64 {
        parse_iso_ms(s.as_bytes()).unwrap()
    }

    #[test]
    fn civil_round_trip() {
        for d in -800_000..800_000 {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2020, 3, 1), 18_322);
        assert_eq!(format_day(18_322), "2020-03-01");
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2020-03-16 was a Monday; 2020-03-22 the Sunday after.
        let monday = days_from_civil(2020, 3, 16);
        for d in monday..monday + 7 {
            assert_eq!(week_start(d), monday);
        }
        assert_eq!(week_start(monday + 7), monday + 7);
        // Before 1970 too.
        assert_eq!(week_start(-1), -3);
    }

    #[test]
    fn months() {
        let d = days_from_civil(2020, 2, 29);
        assert_eq!(month_start(d), days_from_civil(2020, 2, 1));
        assert_eq!(next_month_start(d), days_from_civil(2020, 3, 1));
        let dec = days_from_civil(2019, 12, 31);
        assert_eq!(next_month_start(dec), days_from_civil(2020, 1, 1));
    }

    #[test]
    fn iso_parsing() {
        assert_eq!(ms("1970-01-01T00:00:00Z"), 0);
        assert_eq!(ms("1970-01-01T00:00:00.5Z"), 500);
        assert_eq!(ms("1970-01-01T00:00:00.123456Z"), 123);
        assert_eq!(ms("1970-01-01T01:00:00+01:00"), 0);
        assert_eq!(ms("1970-01-01T01:00:00+0100"), 0);
        assert_eq!(ms("1969-12-31T23:00:00-01:00"), 0);
        assert_eq!(ms("1970-01-01 01:00:00+01"), 0);
        assert_eq!(ms("2020-03-16T08:00:00"), 1_584_345_600_000);
        for bad in [
            "",
            "2020-02-30T00:00:00Z",
            "2020-03-16",
            "2020-03-16T25:00:00Z",
            "2020-03-16T08:00:00.Z",
            "2020-03-16T08:00:00+1",
            "x020-03-16T08:00:00Z",
        ] {
            assert_eq!(parse_iso_ms(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn local_midnight_around_2020_dst_changes() {
        let mut days = paris();
        let mar29 = days_from_civil(2020, 3, 29);
        // Spring forward: 29 March 2020 has 23 hours in Paris.
        assert_eq!(days.day_of(ms("2020-03-28T22:59:59.999Z")), Some(mar29 - 1));
        assert_eq!(days.day_of(ms("2020-03-28T23:00:00Z")), Some(mar29));
        assert_eq!(days.day_of(ms("2020-03-29T21:59:59.999Z")), Some(mar29));
        assert_eq!(days.day_of(ms("2020-03-29T22:00:00Z")), Some(mar29 + 1));
        // Fall back: 25 October 2020 has 25 hours.
        let oct25 = days_from_civil(2020, 10, 25);
        assert_eq!(days.day_of(ms("2020-10-24T21:59:59.999Z")), Some(oct25 - 1));
        assert_eq!(days.day_of(ms("2020-10-24T22:00:00Z")), Some(oct25));
        assert_eq!(days.day_of(ms("2020-10-25T22:59:59.999Z")), Some(oct25));
        assert_eq!(days.day_of(ms("2020-10-25T23:00:00Z")), Some(oct25 + 1));
    }

    #[test]
    fn local_hours_across_dst_changes() {
        let mut days = paris();
        let hour = |d: &mut LocalDays, s: &str| d.locate(ms(s)).unwrap().1;
        assert_eq!(hour(&mut days, "2020-03-16T07:30:00Z"), 8);
        // Spring forward at 02:00 CET: 01:59 then 03:00.
        assert_eq!(hour(&mut days, "2020-03-29T00:59:59.999Z"), 1);
        assert_eq!(hour(&mut days, "2020-03-29T01:00:00Z"), 3);
        assert_eq!(hour(&mut days, "2020-03-29T21:59:59Z"), 23);
        // Fall back at 03:00 CEST: hour 2 twice.
        assert_eq!(hour(&mut days, "2020-10-25T00:30:00Z"), 2);
        assert_eq!(hour(&mut days, "2020-10-25T01:30:00Z"), 2);
        assert_eq!(hour(&mut days, "2020-10-25T02:30:00Z"), 3);
        // Far zones with quarter-hour offsets.
        let mut kathmandu = LocalDays::new(TimeZone::get("Asia/Kathmandu").unwrap());
        assert_eq!(hour(&mut kathmandu, "2020-03-16T18:14:59Z"), 23);
        assert_eq!(hour(&mut kathmandu, "2020-03-16T18:15:00Z"), 0);
    }

    #[test]
    fn month_ends_cut_at_local_midnight() {
        let mut days = paris();
        // 31 March 2020, 23:30 in Paris (CEST) is still March...
        let d = days.day_of(ms("2020-03-31T21:30:00Z")).unwrap();
        assert_eq!(month_start(d), days_from_civil(2020, 3, 1));
        // ...and 00:30 on 1 April is April, although still 31 March in UTC.
        let d = days.day_of(ms("2020-03-31T22:30:00Z")).unwrap();
        assert_eq!(month_start(d), days_from_civil(2020, 4, 1));
        // 1 March 2020 00:30 CET is 29 February 23:30 UTC.
        let d = days.day_of(ms("2020-02-29T23:30:00Z")).unwrap();
        assert_eq!(d, days_from_civil(2020, 3, 1));
    }

    #[test]
    fn cache_is_transparent() {
        // Out-of-order lookups that collide in the cache give the same days.
        let mut cached = paris();
        let start = ms("2019-09-01T00:00:00Z");
        let mut t = start;
        let mut x = 12345u64;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            t = start + (x >> 20) as i64 % (400 * MS_PER_DAY);
            let fresh = paris().day_of(t);
            assert_eq!(cached.day_of(t), fresh);
        }
        assert!(t > start);
    }

    #[test]
    fn local_to_ms_resolves_gaps_and_folds() {
        let days = paris();
        let gap = date(2020, 3, 29).at(2, 30, 0, 0);
        assert_eq!(days.local_to_ms(gap), Some(ms("2020-03-29T01:30:00Z")));
        let fold = date(2020, 10, 25).at(2, 30, 0, 0);
        assert_eq!(days.local_to_ms(fold), Some(ms("2020-10-25T00:30:00Z")));
    }

    #[test]
    fn naive_times_convert_like_local_to_ms() {
        let mut days = paris();
        // Naive ms of a wall-clock time: the same digits read as UTC.
        let naive = |s: &str| ms(&format!("{s}Z"));
        for (wall, utc) in [
            ("2020-03-16T08:12:33.5", "2020-03-16T07:12:33.5Z"),
            ("2020-03-16T08:59:59", "2020-03-16T07:59:59Z"),
            ("2020-03-29T01:59:59", "2020-03-29T00:59:59Z"),
            // In the spring gap: moved forward by the gap.
            ("2020-03-29T02:30:00", "2020-03-29T01:30:00Z"),
            ("2020-03-29T03:00:00", "2020-03-29T01:00:00Z"),
            // In the autumn fold: the first (summer time) instant.
            ("2020-10-25T02:30:00", "2020-10-25T00:30:00Z"),
            ("2020-10-25T03:00:00", "2020-10-25T02:00:00Z"),
        ] {
            assert_eq!(days.naive_to_ms(naive(wall)), Some(ms(utc)), "{wall}");
        }
    }
}
