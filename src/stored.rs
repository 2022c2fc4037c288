//! Reading back the Parquet tables of a finished run, for `report` and
//! `merge`.

use crate::error::{Error, Result};
use arrow_array::{Array, Date32Array, Int64Array, RecordBatch, StringArray};
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::Path;

/// Every record batch of a Parquet file.
///
/// The parquet crate still panics on some damaged files instead of
/// returning an error (a negative column chunk offset, a data page in
/// dictionary encoding with no dictionary page: found by the
/// `merge_tables` fuzz target; apache/arrow-rs#9434 fixes others in later
/// versions). A panic while reading is therefore caught and reported as
/// the file being damaged: a merge or a report must say which file is bad,
/// not abort.
pub fn batches(path: &Path) -> Result<Vec<RecordBatch>> {
    std::panic::catch_unwind(|| read_batches(path)).unwrap_or_else(|panic| {
        let cause = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("the Parquet reader failed");
        Err(Error::output(path, format!("damaged Parquet file: {cause}")))
    })
}

/// [`batches`], where the parquet crate may panic. The file is read whole
/// first: the reader's small reads of page headers are then copies, not
/// system calls (a damaged header made it skip through a 3 KB file with
/// millions of one-byte reads, for 30 seconds: found by fuzzing).
fn read_batches(path: &Path) -> Result<Vec<RecordBatch>> {
    let file = Bytes::from(std::fs::read(path).map_err(|e| Error::io(path, e))?);
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| Error::output(path, e))?;
    reader.collect::<std::result::Result<Vec<_>, _>>().map_err(|e| Error::output(path, e))
}

/// Column `name` of `b` as an array of type `T`.
pub fn column<'b, T: 'static>(b: &'b RecordBatch, name: &str, path: &Path) -> Result<&'b T> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| Error::output(path, format!("column {name} is missing or of another type")))
}

/// A string column.
pub fn strings<'b>(b: &'b RecordBatch, name: &str, path: &Path) -> Result<&'b StringArray> {
    column(b, name, path)
}

/// An int64 column.
pub fn ints<'b>(b: &'b RecordBatch, name: &str, path: &Path) -> Result<&'b Int64Array> {
    column(b, name, path)
}

/// A date column.
pub fn dates<'b>(b: &'b RecordBatch, name: &str, path: &Path) -> Result<&'b Date32Array> {
    column(b, name, path)
}

/// Row `i` of a nullable string column.
pub fn text(a: &StringArray, i: usize) -> Option<&str> {
    (!a.is_null(i)).then(|| a.value(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a damaged table the `merge_tables` fuzz target found: an
    /// error naming the file and saying `cause`.
    fn damaged_error(name: &str, cause: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corrupt").join(name);
        let message = batches(&path).unwrap_err().to_string();
        assert!(message.contains(name), "{message}");
        assert!(message.contains(cause), "{message}");
        message
    }

    /// A damaged table that makes the parquet crate panic: an error
    /// instead.
    fn damaged(name: &str, cause: &str) {
        let message = damaged_error(name, cause);
        assert!(message.contains("damaged Parquet file"), "{message}");
    }

    #[test]
    fn negative_column_chunk_offset_is_an_error_not_a_panic() {
        damaged("negative_chunk_offset.parquet", "should not be negative");
    }

    /// A page header whose skipped field claims more than the file
    /// holds: the reader once took 30 s over it, one system call a byte.
    #[test]
    fn header_claiming_more_than_the_file_is_an_error() {
        damaged_error("thrift_skip_to_the_end.parquet", "failed to fill whole buffer");
    }

    #[test]
    fn dictionary_page_missing_is_an_error_not_a_panic() {
        damaged("dictionary_page_missing.parquet", "Decoder for dict");
    }
}
