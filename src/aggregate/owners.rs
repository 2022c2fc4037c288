//! Workers that own users' facts and visits.
//!
//! Workers read chunks, not users: a user's day is often read in part by
//! each worker, and a dump read twice (or four times) gives every worker a
//! part of nearly every user's day. If each worker kept the facts and
//! visits of what it read, the per-user state would grow with the number
//! of workers that saw a day, up to one copy per worker, and the final
//! stage would combine them. Instead each user has one owner among the
//! workers (by the user's shard): a worker folds the facts and visits of
//! the users it owns, and posts the others' events, as [`Forward`]s, to
//! their owner's mailbox once per chunk. The owner folds them in when it
//! next finishes a chunk, and every worker empties its mailbox when an
//! input is read. Facts and visits do not depend on the order their
//! events come in, so the figures are those of any other cut. What is not
//! kept by user (event counts by day and scope, hours, applications by
//! structure) is counted by the worker that reads the event.

use super::app_names::AppId;
use super::class_names::ClassId;
use super::key::{SHARDS, user_shard};
use super::scope::StructureId;
use super::state::UserRecord;
use super::visits::Touch;
use crate::device::Device;
use crate::parse::EventKind;
use datasketches::hll::Coupon;
use smallvec::SmallVec;
use std::sync::{Arc, Mutex};

/// One event, for the worker that owns its user.
#[derive(Clone, Debug)]
pub struct Forward {
    /// Keyed pseudonym of the user.
    pub user: u64,
    /// Local day number.
    pub day: i32,
    /// The event's instant, profile and service.
    pub touch: Touch,
    /// The event's device (its owner may need it: the event may be its
    /// visit's first).
    pub device: Device,
    /// What happened.
    pub kind: EventKind,
    /// The application opened, for `ACCESS` events.
    pub app: Option<AppId>,
    /// Distinct structures of the event.
    pub structures: SmallVec<[StructureId; 2]>,
    /// Distinct classes of the event (or of its user, from the directory).
    pub classes: SmallVec<[ClassId; 2]>,
    /// The HLL coupon of the user's raw id, for a `LOGIN`.
    pub coupon: Option<Coupon>,
}

impl Forward {
    /// The event of `r`, from `device`, to post to its user's owner.
    pub fn of(r: &UserRecord<'_>, device: Device) -> Forward {
        let UserRecord { user, day, touch, kind, structures, classes, app, coupon } = *r;
        let (structures, classes) = (structures.into(), classes.into());
        Forward { user, day, touch, device, kind, app, structures, classes, coupon }
    }

    /// The event as its owner folds it.
    pub fn record(&self) -> UserRecord<'_> {
        let Forward { user, day, touch, kind, app, ref structures, ref classes, coupon, .. } =
            *self;
        UserRecord { user, day, touch, kind, structures, classes, app, coupon }
    }
}

/// The mailboxes of a team of workers: batches of [`Forward`]s waiting for
/// their owner.
#[derive(Debug)]
pub struct Mailboxes {
    boxes: Vec<Mutex<Vec<Vec<Forward>>>>,
    /// The owner of each user shard (asked for every event: no division).
    owners: [usize; SHARDS],
}

impl Mailboxes {
    /// Mailboxes for `workers` workers (at least one).
    pub fn new(workers: usize) -> Arc<Mailboxes> {
        let workers = workers.max(1);
        let boxes = (0..workers).map(|_| Mutex::new(Vec::new())).collect();
        Arc::new(Mailboxes { boxes, owners: std::array::from_fn(|shard| shard % workers) })
    }

    /// The worker that owns the visits of `user`.
    #[inline]
    pub fn owner(&self, user: u64) -> usize {
        self.owners[user_shard(user)]
    }

    /// The number of workers.
    pub fn workers(&self) -> usize {
        self.boxes.len()
    }

    /// Leaves `batch` for worker `to`.
    pub fn post(&self, to: usize, batch: Vec<Forward>) {
        // Posting and collecting cannot panic half-way: a poisoned box is whole.
        self.boxes[to].lock().unwrap_or_else(|e| e.into_inner()).push(batch);
    }

    /// Everything left for worker `me` so far.
    pub fn collect(&self, me: usize) -> Vec<Vec<Forward>> {
        std::mem::take(&mut *self.boxes[me].lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Profile;

    #[test]
    fn every_user_has_one_owner_among_the_workers() {
        let mail = Mailboxes::new(3);
        let owners: Vec<usize> =
            (0..1000u64).map(|u| mail.owner(u.wrapping_mul(0x9E37_79B9_7F4A_7C15))).collect();
        assert!(owners.iter().all(|&o| o < 3));
        for w in 0..3 {
            assert!(owners.contains(&w), "worker {w} owns no user");
        }
        assert_eq!(Mailboxes::new(0).workers(), 1);
    }

    #[test]
    fn batches_wait_for_their_owner() {
        let mail = Mailboxes::new(2);
        let touch = Touch { at: 5, profile: Profile::Student, service: None };
        let f = Forward {
            user: 1,
            day: 2,
            touch,
            device: Device::Other,
            kind: EventKind::Login,
            app: None,
            structures: SmallVec::new(),
            classes: SmallVec::new(),
            coupon: None,
        };
        mail.post(1, vec![f.clone(), f]);
        assert!(mail.collect(0).is_empty());
        let got = mail.collect(1);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].len(), 2);
        assert!(mail.collect(1).is_empty());
    }
}
