//! The per-socket frame budget: a token bucket, plus a count of refusals
//! to tell a client that is a little fast from one that floods.

use std::time::{Duration, Instant};

use super::WsLimits;

/// How far back refusals count towards a flood.
const FLOOD_WINDOW: Duration = Duration::from_secs(10);

pub struct RateLimit {
    tokens: f64,
    last: Instant,
    refused: Vec<Instant>,
}

/// A frame over the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Answer with an error and carry on.
    Slow,
    /// Too many refusals in the window: close the socket (1008).
    Flood,
}

impl RateLimit {
    pub fn new(burst: u32) -> Self {
        Self {
            tokens: f64::from(burst),
            last: Instant::now(),
            refused: Vec::new(),
        }
    }

    /// Takes one frame's token.
    pub fn take(&mut self, limits: &WsLimits) -> Result<(), Refused> {
        let now = Instant::now();
        let refill =
            now.duration_since(self.last).as_secs_f64() * f64::from(limits.frames_per_second);
        self.tokens = (self.tokens + refill).min(f64::from(limits.burst));
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        metrics::counter!("chat_rate_limited_total", "what" => "ws_frames").increment(1);
        self.refused
            .retain(|t| now.duration_since(*t) < FLOOD_WINDOW);
        self.refused.push(now);
        if self.refused.len() > limits.flood_tolerance as usize {
            Err(Refused::Flood)
        } else {
            Err(Refused::Slow)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_refusals_turn_into_a_flood() {
        let limits = WsLimits {
            frames_per_second: 1,
            burst: 3,
            flood_tolerance: 2,
            ..WsLimits::default()
        };
        let mut rate = RateLimit::new(limits.burst);
        for _ in 0..3 {
            assert_eq!(rate.take(&limits), Ok(()));
        }
        assert_eq!(rate.take(&limits), Err(Refused::Slow));
        assert_eq!(rate.take(&limits), Err(Refused::Slow));
        assert_eq!(rate.take(&limits), Err(Refused::Flood));
    }
}
