//! Delivered and read receipts: how far each side of a conversation has
//! received and seen it.

use crate::{SenderType, SessionId, TenantId, Timestamp, ValidationError};

/// Whose pointers a receipt moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptSide {
    Customer,
    Agent,
}

impl ReceiptSide {
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptSide::Customer => "customer",
            ReceiptSide::Agent => "agent",
        }
    }

    /// Whether a message of this sender is one this side receives (rather
    /// than one it wrote): what its delivered pointer measures.
    pub fn receives(self, sender: SenderType) -> bool {
        match self {
            ReceiptSide::Customer => sender != SenderType::Customer,
            ReceiptSide::Agent => sender == SenderType::Customer,
        }
    }
}

/// What a client reports: it has received everything up to `delivered`,
/// and a person has seen everything up to `read` (0: nothing to report).
/// Reading implies having received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptUpdate {
    pub delivered: i64,
    pub read: i64,
}

impl ReceiptUpdate {
    pub fn delivered(seq: i64) -> Result<Self, ValidationError> {
        Ok(Self {
            delivered: check_seq(seq)?,
            read: 0,
        })
    }

    pub fn read(seq: i64) -> Result<Self, ValidationError> {
        let seq = check_seq(seq)?;
        Ok(Self {
            delivered: seq,
            read: seq,
        })
    }

    /// Capped at the session's newest message: a client cannot report
    /// having seen what does not exist yet.
    pub fn capped(self, last_seq: i64) -> Self {
        Self {
            delivered: self.delivered.min(last_seq),
            read: self.read.min(last_seq),
        }
    }
}

fn check_seq(seq: i64) -> Result<i64, ValidationError> {
    if seq < 0 {
        return Err(ValidationError::new("seq", "must be 0 or more"));
    }
    Ok(seq)
}

/// A receipt that moved a pointer, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptChange {
    pub tenant_id: TenantId,
    pub session_id: SessionId,
    pub side: ReceiptSide,
    pub delivered_seq: i64,
    pub read_seq: i64,
    /// The agents' unread count after it.
    pub unread_count: i64,
    /// When each message this receipt newly acknowledged as delivered was
    /// stored (at most a page of them): the delivery latency the server
    /// can measure end to end.
    pub newly_delivered: Vec<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_implies_delivery_and_both_are_capped_at_the_last_message() {
        let r = ReceiptUpdate::read(9).map(|r| r.capped(4));
        assert_eq!(
            r,
            Ok(ReceiptUpdate {
                delivered: 4,
                read: 4
            })
        );
        assert!(ReceiptUpdate::delivered(-1).is_err());
    }

    #[test]
    fn each_side_receives_the_other_sides_messages() {
        assert!(ReceiptSide::Customer.receives(SenderType::Bot));
        assert!(!ReceiptSide::Customer.receives(SenderType::Customer));
        assert!(ReceiptSide::Agent.receives(SenderType::Customer));
        assert!(!ReceiptSide::Agent.receives(SenderType::Agent));
    }
}
