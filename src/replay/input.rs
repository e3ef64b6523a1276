//! Opening traces and output files: `-` is standard input/output, a name
//! ending in `.gz` is gzip.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::progress::{CountingReader, Progress};

/// A buffered reader over the trace.
pub fn open_read(path: &str) -> io::Result<Box<dyn BufRead>> {
    open_read_inner(path, None)
}

/// [`open_read`] that shows `label`'s progress through the file on a
/// terminal (nothing in a pipe, nothing for standard input).
pub fn open_read_progress(path: &str, label: &'static str) -> io::Result<Box<dyn BufRead>> {
    open_read_inner(path, Some(label))
}

fn open_read_inner(path: &str, progress: Option<&'static str>) -> io::Result<Box<dyn BufRead>> {
    if path == "-" {
        return Ok(Box::new(BufReader::new(io::stdin())));
    }
    let file = File::open(Path::new(path)).map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?;
    let raw: Box<dyn Read> = match progress {
        Some(label) if io::stderr().is_terminal() => {
            let size = file
                .metadata()
                .map_or(0, |m| usize::try_from(m.len()).unwrap_or(usize::MAX));
            Box::new(CountingReader::new(file, Progress::over_bytes(label, size, true)))
        }
        _ => Box::new(file),
    };
    if path.ends_with(".gz") {
        Ok(Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(raw))))
    } else {
        Ok(Box::new(BufReader::with_capacity(1 << 16, raw)))
    }
}

/// A buffered writer: standard output for `None` or `-`, gzip for `.gz`.
pub fn open_write(path: Option<&str>) -> io::Result<Box<dyn Write>> {
    match path {
        None | Some("-") => Ok(Box::new(BufWriter::new(io::stdout()))),
        Some(p) => {
            let file = File::create(p).map_err(|e| io::Error::new(e.kind(), format!("{p}: {e}")))?;
            if p.ends_with(".gz") {
                Ok(Box::new(BufWriter::new(GzEncoder::new(file, Compression::fast()))))
            } else {
                Ok(Box::new(BufWriter::with_capacity(1 << 16, file)))
            }
        }
    }
}
