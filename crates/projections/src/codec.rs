//! The compact encoding of the domain's values kept in projection state,
//! on top of the store's [`Enc`] and [`Dec`].

use pacta_domain::history::Detail;
use pacta_domain::{
    ActivityKind, ActivityOutcome, EventType, Fact, Initiative, Instrument, Interval, Slug,
    TerminationMode, Timestamp,
};
use pacta_store::kv::{Dec, DecodeError, Enc};

/// Writes domain values with an [`Enc`].
pub trait EncodeDomain {
    /// A fact of a partnership's history.
    fn fact(&mut self, f: &Fact);
    /// Who initiated a partnership.
    fn initiative(&mut self, i: Option<Initiative>);
}

/// Reads what [`EncodeDomain`] wrote, with a [`Dec`].
pub trait DecodeDomain {
    /// A slug, stored as a short string.
    fn slug(&mut self) -> Result<Slug, DecodeError>;
    /// See [`EncodeDomain::fact`].
    fn fact(&mut self) -> Result<Fact, DecodeError>;
    /// See [`EncodeDomain::initiative`].
    fn initiative(&mut self) -> Result<Option<Initiative>, DecodeError>;
}

impl EncodeDomain for Enc {
    fn fact(&mut self, f: &Fact) {
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
        self.u8(u8::from(f.corrects_date)
            | u8::from(f.open_end) << 1
            | u8::from(f.effective_stated) << 2);
    }

    fn initiative(&mut self, i: Option<Initiative>) {
        self.u8(code(Initiative::ALL, i));
    }
}

impl DecodeDomain for Dec<'_> {
    fn slug(&mut self) -> Result<Slug, DecodeError> {
        Slug::parse(self.str()?).map_err(|e| e.to_string().into())
    }

    fn fact(&mut self) -> Result<Fact, DecodeError> {
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
        let target = self.u64()?;
        let flags = self.u8()?;
        Ok(Fact {
            position,
            recorded_at,
            ty,
            effective,
            detail,
            target,
            corrects_date: flags & 1 != 0,
            open_end: flags & 2 != 0,
            effective_stated: flags & 4 != 0,
        })
    }

    fn initiative(&mut self) -> Result<Option<Initiative>, DecodeError> {
        decode(Initiative::ALL, self.u8()?)
    }
}

/// A value's code: 0 for none, else its index in `all` plus one.
fn code<T: PartialEq + Copy>(all: &[T], v: Option<T>) -> u8 {
    match v {
        None => 0,
        Some(v) => all.iter().position(|x| *x == v).map_or(0, |i| i as u8 + 1),
    }
}

fn decode<T: Copy>(all: &[T], c: u8) -> Result<Option<T>, DecodeError> {
    match c {
        0 => Ok(None),
        c => all
            .get(usize::from(c) - 1)
            .copied()
            .map(Some)
            .ok_or_else(|| format!("unknown code {c}").into()),
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
            open_end: true,
            effective_stated: true,
        };
        let mut e = Enc::default();
        e.fact(&f);
        e.initiative(Some(Initiative::ForeignSide));
        e.str("liberecky-kraj");
        let mut d = Dec::new(&e.0);
        assert_eq!(d.fact().unwrap(), f);
        assert_eq!(d.initiative().unwrap(), Some(Initiative::ForeignSide));
        assert_eq!(d.slug().unwrap().as_str(), "liberecky-kraj");
        assert!(d.is_empty());
    }
}
