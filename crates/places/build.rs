//! Bundles the place data named in `data/prefectures.csv`: each prefecture's boundary file is
//! included by path, so adding a prefecture is a change to the data files only.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let data = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir")).join("../../data");
    let list = data.join("prefectures.csv");
    println!("cargo:rerun-if-changed={}", list.display());
    let text = std::fs::read_to_string(&list).unwrap_or_else(|e| panic!("{}: {e}", list.display()));
    let mut out =
        String::from("/// The boundary files of the bundled prefectures (GeoJSON), in prefectures.csv's order.\n");
    out.push_str("pub const BOUNDARIES: &[&str] = &[\n");
    for (i, line) in text.lines().enumerate().skip(1).filter(|(_, l)| !l.trim().is_empty()) {
        let file = line.split(',').nth(4).map(str::trim).unwrap_or("");
        if file.is_empty() {
            continue;
        }
        let path = data.join(file);
        assert!(path.is_file(), "prefectures.csv line {}: no boundary file {}", i + 1, path.display());
        println!("cargo:rerun-if-changed={}", path.display());
        let _ = writeln!(out, "    include_str!({:?}),", path.display().to_string());
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("out dir")).join("bundled_boundaries.rs");
    std::fs::write(&dest, out).expect("write bundled_boundaries.rs");
}
