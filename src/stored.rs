//! Reading back the Parquet tables of a finished run, for `report` and
//! `merge`.

use crate::error::{Error, Result};
use arrow_array::{Array, Date32Array, Int64Array, RecordBatch, StringArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::Path;

/// Every record batch of a Parquet file.
pub fn batches(path: &Path) -> Result<Vec<RecordBatch>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
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
