//! Tile paths of [c2sp.org/tlog-tiles](https://c2sp.org/tlog-tiles): how
//! mirrors and monitors fetch a log's tree and records as static files.
//!
//! A hash tile at level `L` and index `N` holds the hashes of the tree's
//! nodes at height `8L` with indexes `256N` to `256N + W − 1`, 32 bytes
//! each, concatenated; level 0 holds leaf hashes. A full tile has `W` =
//! 256; the right edge of the tree is served as partial tiles of width
//! `W` < 256. An entry bundle (`entries`) holds the records of leaves
//! `256N` to `256N + W − 1`, each prefixed by its length as a big-endian
//! uint16.
//!
//! Paths: `tile/L/N[.p/W]` and `tile/entries/N[.p/W]`, where `N` is
//! written in zero-padded groups of three digits, every group but the
//! last prefixed by `x` (1234067 is `x001/x234/067`).

use crate::Error;

/// The height of a tile: its hashes are 2⁸ nodes of one level.
pub const TILE_HEIGHT: u8 = 8;
/// The number of hashes or entries in a full tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;

/// What a tile holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TileKind {
    /// Hashes of the nodes at height `8 × level`.
    Hashes {
        /// The tile level, 0 to 63.
        level: u8,
    },
    /// Records (an entry bundle).
    Entries,
}

/// One tile, full or partial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tile {
    /// Hashes or entries.
    pub kind: TileKind,
    /// Its index within its level.
    pub index: u64,
    /// How many hashes or entries it holds: 1 to 256 (256: full).
    pub width: u64,
}

fn malformed(why: &'static str) -> Error {
    Error::MalformedTilePath(why)
}

impl Tile {
    /// Reads a tile path, with or without its leading `tile/`.
    pub fn parse(path: &str) -> Result<Tile, Error> {
        let path = path.strip_prefix("tile/").unwrap_or(path);
        let (first, rest) = path
            .split_once('/')
            .ok_or(malformed("a tile path is LEVEL/INDEX"))?;
        let kind = if first == "entries" {
            TileKind::Entries
        } else {
            let level = decimal(first).ok_or(malformed("the level is a decimal number"))?;
            if level > 63 {
                return Err(malformed("the level is at most 63"));
            }
            TileKind::Hashes { level: level as u8 }
        };
        let (index_path, width) = match rest.split_once(".p/") {
            Some((index, width)) => {
                let width = decimal(width).ok_or(malformed("the width is a decimal number"))?;
                if !(1..TILE_WIDTH).contains(&width) {
                    return Err(malformed("a partial tile's width is 1 to 255"));
                }
                (index, width)
            }
            None => (rest, TILE_WIDTH),
        };
        let groups: Vec<&str> = index_path.split('/').collect();
        let mut index: u64 = 0;
        for (i, group) in groups.iter().enumerate() {
            let digits = if i + 1 < groups.len() {
                group
                    .strip_prefix('x')
                    .ok_or(malformed("every index group but the last starts with x"))?
            } else {
                group
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed("an index group is three digits"));
            }
            let value: u64 = digits.parse().map_err(|_| malformed("index"))?;
            index = index
                .checked_mul(1000)
                .and_then(|n| n.checked_add(value))
                .ok_or(malformed("the index is too large"))?;
        }
        let tile = Tile { kind, index, width };
        if tile.to_path() != format!("tile/{path}") {
            // Leading zero groups, or other spellings of the same tile.
            return Err(malformed("not the canonical path of a tile"));
        }
        Ok(tile)
    }

    /// Its path, `tile/…`.
    pub fn to_path(&self) -> String {
        let level = match self.kind {
            TileKind::Hashes { level } => level.to_string(),
            TileKind::Entries => "entries".to_owned(),
        };
        let mut path = format!("tile/{level}/{}", index_path(self.index));
        if self.width < TILE_WIDTH {
            path.push_str(&format!(".p/{}", self.width));
        }
        path
    }

    /// The height in the tree of the nodes a hash tile holds (0: leaves).
    pub fn height(&self) -> u8 {
        match self.kind {
            TileKind::Hashes { level } => level.saturating_mul(TILE_HEIGHT),
            TileKind::Entries => 0,
        }
    }

    /// The index of its first node (or entry) at its height.
    pub fn first(&self) -> u64 {
        self.index.saturating_mul(TILE_WIDTH)
    }

    /// The number of leaves a tree needs for every node of the tile to be
    /// complete (`None`: more than any tree holds).
    pub fn leaves_needed(&self) -> Option<u64> {
        let nodes = self.first().checked_add(self.width)?;
        let shift = u32::from(self.height());
        if shift >= 64 || nodes > (u64::MAX >> shift) {
            return None;
        }
        Some(nodes << shift)
    }
}

/// `n` as zero-padded three-digit groups, all but the last prefixed `x`.
pub fn index_path(mut n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        groups.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

/// A decimal number without leading zeros (or 0).
fn decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if text.len() > 1 && text.starts_with('0') {
        return None;
    }
    text.parse().ok()
}

/// An entry bundle of these records: each prefixed by its length as a
/// big-endian uint16. Fails for a record of 65 536 bytes or more.
pub fn entry_bundle<'a>(records: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    for record in records {
        let len = u16::try_from(record.len())
            .map_err(|_| malformed("an entry of 65 536 bytes or more has no place in a bundle"))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(record);
    }
    Ok(out)
}

/// The records of an entry bundle.
pub fn read_entry_bundle(mut bundle: &[u8]) -> Result<Vec<&[u8]>, Error> {
    let mut out = Vec::new();
    while !bundle.is_empty() {
        if bundle.len() < 2 {
            return Err(malformed("a bundle entry without its length"));
        }
        let len = usize::from(u16::from_be_bytes([bundle[0], bundle[1]]));
        let rest = &bundle[2..];
        if rest.len() < len {
            return Err(malformed("a bundle entry shorter than its length"));
        }
        out.push(&rest[..len]);
        bundle = &rest[len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_those_of_the_specification() {
        let tile = Tile::parse("tile/0/x001/x234/067").unwrap();
        assert_eq!(
            tile,
            Tile {
                kind: TileKind::Hashes { level: 0 },
                index: 1_234_067,
                width: 256
            }
        );
        let partial = Tile::parse("tile/1/x001/x234/067.p/8").unwrap();
        assert_eq!(
            (partial.index, partial.width, partial.height()),
            (1_234_067, 8, 8)
        );
        assert_eq!(partial.to_path(), "tile/1/x001/x234/067.p/8");
        let entries = Tile::parse("tile/entries/000.p/5").unwrap();
        assert_eq!(
            (entries.kind, entries.index, entries.width),
            (TileKind::Entries, 0, 5)
        );
        assert_eq!(index_path(0), "000");
        assert_eq!(index_path(999), "999");
        assert_eq!(index_path(1000), "x001/000");
        for bad in [
            "tile/0/1",
            "tile/0/0001",
            "tile/0/x000/001",
            "tile/0/001/002",
            "tile/00/001",
            "tile/64/000",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/08",
            "tile/0/x01/000",
            "tile/data/000",
            "tile/0",
            "tile/0/",
            "tile/-1/000",
        ] {
            assert!(Tile::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_tile_needs_the_leaves_under_its_nodes() {
        let t = |p: &str| Tile::parse(p).unwrap().leaves_needed();
        assert_eq!(t("tile/0/000.p/1"), Some(1));
        assert_eq!(t("tile/0/000"), Some(256));
        assert_eq!(t("tile/0/001.p/3"), Some(259));
        assert_eq!(t("tile/1/000.p/2"), Some(512));
        assert_eq!(t("tile/2/000.p/1"), Some(65_536));
        assert_eq!(t("tile/63/000"), None);
    }

    #[test]
    fn bundles_round_trip_and_refuse_what_does_not_fit() {
        let records: Vec<&[u8]> = vec![b"a", b"", b"record three"];
        let bundle = entry_bundle(records.iter().copied()).unwrap();
        assert_eq!(&bundle[..3], &[0, 1, b'a']);
        assert_eq!(read_entry_bundle(&bundle).unwrap(), records);
        assert!(read_entry_bundle(&bundle[..bundle.len() - 1]).is_err());
        let big = vec![0u8; 65_536];
        assert!(entry_bundle([big.as_slice()]).is_err());
    }
}
