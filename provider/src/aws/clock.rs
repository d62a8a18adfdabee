//! AWS's clock, learned from the `Date` header of its answers: the creation leases
//! (`domain::engine::lease`) are written and judged in AWS's time, so a machine whose clock is
//! minutes off neither sweeps a running create nor writes a lease that looks expired at once.
//!
//! An interceptor on both clients notes when each attempt was sent and, when its answer arrives,
//! the answer's `Date` (whole seconds, stamped by AWS between the send and the receipt). From the
//! latest such sample: AWS's time now is at least `date + (now - received)` and at most
//! `date + 1 s + (now - sent)`.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::date_time::{DateTime, Format};

use crate::domain::cloud::AwsTime;

/// One answer's `Date`, with when its request was sent and its answer received (this machine's
/// monotonic clock, never its wall clock).
#[derive(Clone, Copy, Debug)]
struct Sample {
    date: i64,
    sent: Instant,
    received: Instant,
}

/// The latest sample of AWS's clock; clones share it.
#[derive(Clone, Debug, Default)]
pub struct AwsClock(Arc<Mutex<Option<Sample>>>);

impl AwsClock {
    /// AWS's time now, bounded; None before the first answer with a `Date`.
    pub fn now(&self) -> Option<AwsTime> {
        let s = (*self.0.lock().unwrap_or_else(|p| p.into_inner()))?;
        Some(bounds(s, Instant::now()))
    }

    fn note(&self, s: Sample) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(s);
    }

    /// The interceptor that feeds this clock.
    pub fn interceptor(&self) -> DateInterceptor {
        DateInterceptor(self.clone())
    }
}

fn bounds(s: Sample, now: Instant) -> AwsTime {
    let since_received = now.saturating_duration_since(s.received).as_secs() as i64;
    let since_sent = now.saturating_duration_since(s.sent).as_secs_f64().ceil() as i64;
    AwsTime {
        lower: s.date + since_received,
        upper: s.date + 1 + since_sent,
    }
}

/// Parses an HTTP `Date` (IMF-fixdate) into Unix seconds.
pub fn parse_http_date(v: &str) -> Option<i64> {
    DateTime::from_str(v.trim(), Format::HttpDate)
        .ok()
        .map(|d| d.secs())
}

#[derive(Clone, Copy, Debug)]
struct SentAt(Instant);

impl Storable for SentAt {
    type Storer = StoreReplace<Self>;
}

/// Notes each attempt's send time and its answer's `Date` in an [`AwsClock`].
#[derive(Clone, Debug)]
pub struct DateInterceptor(AwsClock);

impl Intercept for DateInterceptor {
    fn name(&self) -> &'static str {
        "AwsDateInterceptor"
    }

    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(SentAt(Instant::now()));
        Ok(())
    }

    fn read_before_deserialization(
        &self,
        ctx: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let received = Instant::now();
        let date = ctx
            .response()
            .headers()
            .get("date")
            .and_then(parse_http_date);
        if let (Some(date), Some(sent)) = (date, cfg.load::<SentAt>()) {
            self.0.note(Sample {
                date,
                sent: sent.0,
                received,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn http_dates_parse_to_unix_seconds() {
        assert_eq!(
            parse_http_date("Mon, 07 Dec 2026 13:04:12 GMT"),
            Some(1_796_648_652)
        );
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn bounds_widen_with_the_time_since_the_sample() {
        let sent = Instant::now();
        let received = sent + Duration::from_millis(300);
        let s = Sample {
            date: 1000,
            sent,
            received,
        };
        let t = bounds(s, received);
        assert_eq!((t.lower, t.upper), (1000, 1002));
        let t = bounds(s, received + Duration::from_secs(10));
        assert_eq!((t.lower, t.upper), (1010, 1012));
        assert!(AwsClock::default().now().is_none());
    }
}
