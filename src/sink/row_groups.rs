//! Row groups whose columns are encoded in parallel.
//!
//! Encoding and compressing the columns of a large table is most of its
//! write time, and one file is one writer: written column after column,
//! the largest partition of `user_visits` kept one core busy while the
//! other had nothing left to write. Each column of a row group has its
//! own encoder, so the columns of every batch are encoded side by side
//! and the finished column chunks appended in order: the file is the one
//! [`ArrowWriter`] writes, byte for byte.

use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::errors::Result;
use parquet::file::writer::SerializedFileWriter;
use rayon::prelude::*;
use std::io::Write;

/// Rows per Parquet row group (the writer's own limit, not the
/// properties': row groups are cut here).
const ROW_GROUP_ROWS: usize = 1 << 20;

/// A Parquet file being written, row group by row group.
pub struct ParallelWriter<W: Write + Send> {
    file: SerializedFileWriter<W>,
    factory: ArrowRowGroupWriterFactory,
    /// The column encoders of the row group being filled.
    columns: Vec<ArrowColumnWriter>,
    /// Rows in that row group so far.
    rows: usize,
    /// Row groups already in the file.
    groups: usize,
}

impl<W: Write + Send> ParallelWriter<W> {
    /// A writer taking over `writer`'s file, schema and settings.
    pub fn new(writer: ArrowWriter<W>) -> Result<ParallelWriter<W>> {
        let (file, factory) = writer.into_serialized_writer()?;
        let columns = factory.create_column_writers(0)?;
        Ok(ParallelWriter { file, factory, columns, rows: 0, groups: 0 })
    }

    /// Adds `batch`'s rows, starting a new row group every
    /// [`ROW_GROUP_ROWS`] rows as [`ArrowWriter`] does.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut done = 0;
        while done < batch.num_rows() {
            let take = (ROW_GROUP_ROWS - self.rows).min(batch.num_rows() - done);
            self.encode(&batch.slice(done, take))?;
            done += take;
            if self.rows == ROW_GROUP_ROWS {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Encodes the columns of `batch` into the row group, side by side.
    fn encode(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut leaves = Vec::with_capacity(self.columns.len());
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
            leaves.extend(compute_leaves(field, column)?);
        }
        self.columns.par_iter_mut().zip(leaves).try_for_each(|(w, leaf)| w.write(&leaf))?;
        self.rows += batch.num_rows();
        Ok(())
    }

    /// Closes the row group being filled (if it has rows) into the file.
    fn flush(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        self.groups += 1;
        let next = self.factory.create_column_writers(self.groups)?;
        let columns = std::mem::replace(&mut self.columns, next);
        let chunks: Vec<_> = columns.into_par_iter().map(ArrowColumnWriter::close).collect();
        let mut group = self.file.next_row_group()?;
        for chunk in chunks {
            chunk?.append_to_row_group(&mut group)?;
        }
        group.close()?;
        self.rows = 0;
        Ok(())
    }

    /// Writes the last row group and the footer.
    pub fn close(mut self) -> Result<()> {
        self.flush()?;
        self.file.close()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::{ListBuilder, StringBuilder};
    use arrow_array::{ArrayRef, Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::properties::WriterProperties;
    use parquet::file::reader::FileReader;
    use parquet::file::serialized_reader::SerializedFileReader;
    use std::sync::Arc;

    fn batches(rows: usize, step: usize) -> Vec<RecordBatch> {
        let item = Arc::new(Field::new("item", DataType::Utf8, true));
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("s", DataType::Utf8, false),
            Field::new("l", DataType::List(item), false),
        ]));
        (0..rows)
            .step_by(step)
            .map(|from| {
                let range = from..(from + step).min(rows);
                let mut lists = ListBuilder::new(StringBuilder::new());
                for i in range.clone() {
                    for j in 0..i % 3 {
                        lists.values().append_value(format!("x{}", (i + j) % 97));
                    }
                    lists.append(true);
                }
                let columns: Vec<ArrayRef> = vec![
                    Arc::new(range.clone().map(|i| i as i64 * 7).collect::<Int64Array>()),
                    Arc::new(range.map(|i| Some(format!("p{}", i % 5))).collect::<StringArray>()),
                    Arc::new(lists.finish()),
                ];
                RecordBatch::try_new(schema.clone(), columns).unwrap()
            })
            .collect()
    }

    fn arrow_writer(
        out: &mut Vec<u8>,
        schema: arrow_schema::SchemaRef,
    ) -> ArrowWriter<&mut Vec<u8>> {
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap()))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        ArrowWriter::try_new(out, schema, Some(props)).unwrap()
    }

    #[test]
    fn the_file_is_arrow_writers_byte_for_byte() {
        // Batches that do not divide the row group: some are split
        // across two row groups.
        let all = batches(ROW_GROUP_ROWS * 2 + 12_345, 100_000);
        let schema = all[0].schema();
        let mut expected = Vec::new();
        let mut w = arrow_writer(&mut expected, schema.clone());
        for b in &all {
            w.write(b).unwrap();
        }
        w.close().unwrap();
        let mut got = Vec::new();
        let mut p = ParallelWriter::new(arrow_writer(&mut got, schema.clone())).unwrap();
        for b in &all {
            p.write(b).unwrap();
        }
        p.close().unwrap();
        assert!(got == expected, "{} bytes against {}", got.len(), expected.len());
        let file = SerializedFileReader::new(bytes::Bytes::from(got)).unwrap();
        assert_eq!(file.metadata().num_row_groups(), 3);
    }

    #[test]
    fn an_empty_file_is_arrow_writers_too() {
        let schema = batches(1, 1)[0].schema();
        let mut expected = Vec::new();
        arrow_writer(&mut expected, schema.clone()).close().unwrap();
        let mut got = Vec::new();
        ParallelWriter::new(arrow_writer(&mut got, schema)).unwrap().close().unwrap();
        assert!(got == expected);
    }
}
