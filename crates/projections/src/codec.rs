//! Compact binary encoding of projection state.

use pacta_domain::history::Detail;
use pacta_domain::{
    ActivityKind, ActivityOutcome, EventType, Fact, Initiative, Instrument, Interval, Slug,
    TerminationMode, Timestamp,
};

/// Appends encoded values to a buffer.
#[derive(Default)]
pub struct Enc(pub Vec<u8>);

impl Enc {
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub fn str(&mut self, s: &str) {
        let len = u8::try_from(s.len()).expect("slugs are at most 96 bytes");
        self.0.push(len);
        self.0.extend_from_slice(s.as_bytes());
    }
    /// A string of any length (a u32 length first).
    pub fn long_str(&mut self, s: &str) {
        let len = u32::try_from(s.len()).expect("names are short");
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(s.as_bytes());
    }
    pub fn fact(&mut self, f: &Fact) {
        self.u64(f.position);
        self.i64(f.recorded_at.micros());
        self.u8(code(&EventType::ALL, Some(f.ty)));
        self.i32(f.effective.lo());
        self.i32(f.effective.hi());
        self.u8(code(Instrument::ALL, f.detail.instrument));
        self.u8(code(TerminationMode::ALL, f.detail.mode));
        self.u8(code(ActivityKind::ALL, f.detail.activity));
        self.u8(code(ActivityOutcome::ALL, f.detail.outcome));
        self.u64(f.target);
        self.u8(u8::from(f.corrects_date));
    }
    pub fn initiative(&mut self, i: Option<Initiative>) {
        self.u8(code(Initiative::ALL, i));
    }
}

fn code<T: PartialEq + Copy>(all: &[T], v: Option<T>) -> u8 {
    match v {
        None => 0,
        Some(v) => all.iter().position(|x| *x == v).map_or(0, |i| i as u8 + 1),
    }
}

fn decode<T: Copy>(all: &[T], c: u8) -> Result<Option<T>, String> {
    match c {
        0 => Ok(None),
        c => all
            .get(usize::from(c) - 1)
            .copied()
            .map(Some)
            .ok_or_else(|| format!("unknown code {c}")),
    }
}

/// Reads encoded values from a slice.
pub struct Dec<'a> {
    buf: &'a [u8],
}

impl<'a> Dec<'a> {
    pub fn new(buf: &'a [u8]) -> Dec<'a> {
        Dec { buf }
    }
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.buf.len() < n {
            return Err("truncated value".into());
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }
    pub fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    pub fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_be_bytes(
            self.take(8)?.try_into().map_err(|_| "u64")?,
        ))
    }
    pub fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_be_bytes(
            self.take(8)?.try_into().map_err(|_| "i64")?,
        ))
    }
    pub fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_be_bytes(
            self.take(4)?.try_into().map_err(|_| "i32")?,
        ))
    }
    pub fn str(&mut self) -> Result<&'a str, String> {
        let len = usize::from(self.u8()?);
        std::str::from_utf8(self.take(len)?).map_err(|e| e.to_string())
    }
    pub fn long_str(&mut self) -> Result<&'a str, String> {
        let len = u32::from_be_bytes(self.take(4)?.try_into().map_err(|_| "u32")?) as usize;
        std::str::from_utf8(self.take(len)?).map_err(|e| e.to_string())
    }
    pub fn slug(&mut self) -> Result<Slug, String> {
        Slug::parse(self.str()?).map_err(|e| e.to_string())
    }
    pub fn fact(&mut self) -> Result<Fact, String> {
        let position = self.u64()?;
        let recorded_at = Timestamp::from_micros(self.i64()?);
        let ty = decode(&EventType::ALL, self.u8()?)?.ok_or("missing event type")?;
        let lo = self.i32()?;
        let hi = self.i32()?;
        let effective = Interval::new(lo, hi).ok_or("interval ends before it starts")?;
        let detail = Detail {
            instrument: decode(Instrument::ALL, self.u8()?)?,
            mode: decode(TerminationMode::ALL, self.u8()?)?,
            activity: decode(ActivityKind::ALL, self.u8()?)?,
            outcome: decode(ActivityOutcome::ALL, self.u8()?)?,
        };
        Ok(Fact {
            position,
            recorded_at,
            ty,
            effective,
            detail,
            target: self.u64()?,
            corrects_date: self.u8()? != 0,
        })
    }
    pub fn initiative(&mut self) -> Result<Option<Initiative>, String> {
        decode(Initiative::ALL, self.u8()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_round_trip() {
        let f = Fact {
            position: 77,
            recorded_at: Timestamp::from_micros(-5),
            ty: EventType::Terminated,
            effective: Interval::new(Interval::OPEN_LO, 19_000).unwrap(),
            detail: Detail {
                instrument: None,
                mode: Some(TerminationMode::Denounced),
                activity: Some(ActivityKind::Other),
                outcome: Some(ActivityOutcome::Unanswered),
            },
            target: 3,
            corrects_date: true,
        };
        let mut e = Enc::default();
        e.fact(&f);
        e.initiative(Some(Initiative::ForeignSide));
        let mut d = Dec::new(&e.0);
        assert_eq!(d.fact().unwrap(), f);
        assert_eq!(d.initiative().unwrap(), Some(Initiative::ForeignSide));
        assert!(d.is_empty());
    }
}
