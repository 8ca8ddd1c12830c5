use std::{cmp::min, io, str};

use bytes::{Buf, BufMut, BytesMut};

use super::{
    mask::apply_mask,
    proto::{CloseCode, CloseReason, OpCode},
    ProtocolError,
};

/// A struct representing a WebSocket frame.
#[derive(Debug)]
pub struct Parser;

/// FIN bitmask (RFC 6455 §5.2).
const FIN_MASK: u8 = 0x80;

/// RSV1, RSV2, and RSV3 bitmask (RFC 6455 §5.2).
const RSV_MASK: u8 = 0b0111_0000;

/// OpCode 4-bit nibble mask (RFC 6455 §5.2).
const OPCODE_MASK: u8 = 0x0F;

/// MASK bit bitmask (RFC 6455 §5.2).
const MASK_BIT: u8 = 0x80;

/// 7-bit payload length bitmask (RFC 6455 §5.2).
const PAYLOAD_LEN_MASK: u8 = 0x7F;

/// Extended payload length indicator for 16-bit length (RFC 6455 §5.2).
const EXT_LEN_U16: u8 = 126;

/// Extended payload length indicator for 64-bit length (RFC 6455 §5.2).
const EXT_LEN_U64: u8 = 127;

/// Maximum payload length allowed for control frames (RFC 6455 §5.5).
const MAX_CONTROL_FRAME_PAYLOAD: usize = 125;

/// Maximum payload length representable by a 16-bit extended length (RFC 6455 §5.2).
const U16_PAYLOAD_MAX: usize = u16::MAX as usize;

/// Maximum legal payload length for a 64-bit extended length (RFC 6455 §5.2).
const U64_PAYLOAD_MAX: u64 = i64::MAX as u64;

/// Client masking key length in bytes (RFC 6455 §5.3).
const MASK_LEN: usize = 4;

/// Convert a payload length to `usize`, failing if it does not fit.
///
/// A `usize` cannot represent every 63-bit length on 32-bit targets, where the conversion must
/// fail rather than truncate. Truncating would make the parser report a shorter frame and treat
/// the remaining bytes as the start of the next one.
fn payload_len_to_usize(len: u64) -> Result<usize, ProtocolError> {
    usize::try_from(len).map_err(|_| ProtocolError::Overflow)
}

/// Whether the most significant bit of a 64-bit payload length is set.
///
/// RFC 6455 §5.2 defines the payload length as an unsigned 63-bit integer, so the most
/// significant bit must be zero.
fn payload_len_msb_set(len: u64) -> bool {
    len > U64_PAYLOAD_MAX
}

impl Parser {
    fn parse_metadata(
        src: &[u8],
        server: bool,
    ) -> Result<Option<(usize, bool, OpCode, usize, Option<[u8; 4]>)>, ProtocolError> {
        let chunk_len = src.len();

        let mut idx = 2;
        if chunk_len < 2 {
            return Ok(None);
        }

        let first = src[0];
        let second = src[1];
        let finished = first & FIN_MASK != 0;

        // RSV1, RSV2, and RSV3 must be zero unless a negotiated extension defines them.
        if first & RSV_MASK != 0 {
            // TODO(semver-major): use InvalidReservedBits
            return Err(ProtocolError::Io(io::Error::new(
                io::ErrorKind::InvalidData,
                "Received a frame with non-zero reserved bits",
            )));
        }

        // check masking
        let masked = second & MASK_BIT != 0;
        if !masked && server {
            return Err(ProtocolError::UnmaskedFrame);
        } else if masked && !server {
            return Err(ProtocolError::MaskedFrame);
        }

        // Op code
        let opcode = OpCode::from(first & OPCODE_MASK);

        if let OpCode::Bad = opcode {
            return Err(ProtocolError::InvalidOpcode(first & OPCODE_MASK));
        }

        let len = second & PAYLOAD_LEN_MASK;
        let length = if len == EXT_LEN_U16 {
            if chunk_len < 4 {
                return Ok(None);
            }
            let len = usize::from(u16::from_be_bytes(
                TryFrom::try_from(&src[idx..idx + 2]).unwrap(),
            ));
            idx += 2;
            len
        } else if len == EXT_LEN_U64 {
            if chunk_len < 10 {
                return Ok(None);
            }
            let len = u64::from_be_bytes(TryFrom::try_from(&src[idx..idx + 8]).unwrap());
            idx += 8;

            if payload_len_msb_set(len) {
                // TODO(semver-major): use a variant that describes an invalid length, rather than
                //  the payload size limit that `Overflow` also documents.
                return Err(ProtocolError::Overflow);
            }

            payload_len_to_usize(len)?
        } else {
            len as usize
        };

        let mask = if server {
            if chunk_len < idx + MASK_LEN {
                return Ok(None);
            }

            let mask = TryFrom::try_from(&src[idx..idx + MASK_LEN]).unwrap();

            idx += MASK_LEN;

            Some(mask)
        } else {
            None
        };

        Ok(Some((idx, finished, opcode, length, mask)))
    }

    /// Parse the input stream into a frame.
    pub fn parse(
        src: &mut BytesMut,
        server: bool,
        max_size: usize,
    ) -> Result<Option<(bool, OpCode, Option<BytesMut>)>, ProtocolError> {
        // try to parse ws frame metadata
        let (idx, finished, opcode, length, mask) = match Parser::parse_metadata(src, server)? {
            None => return Ok(None),
            Some(res) => res,
        };

        // Live on 32-bit targets, where `u32::MAX` fits a `usize` and overflows this. On 64-bit
        // it cannot fire: overflowing needs a length above `u64::MAX - idx`, which has the most
        // significant bit set and is rejected earlier.
        let frame_len = match idx.checked_add(length) {
            Some(len) => len,
            None => return Err(ProtocolError::Overflow),
        };

        // not enough data
        if src.len() < frame_len {
            let min_length = min(length, max_size);
            let required_cap = match idx.checked_add(min_length) {
                Some(cap) => cap,
                None => return Err(ProtocolError::Overflow),
            };

            if src.capacity() < required_cap {
                src.reserve(required_cap - src.capacity());
            }
            return Ok(None);
        }

        // remove prefix
        src.advance(idx);

        // check for max allowed size
        if length > max_size {
            // drop the payload
            src.advance(length);
            return Err(ProtocolError::Overflow);
        }

        // no need for body
        if length == 0 {
            return Ok(Some((finished, opcode, None)));
        }

        let mut data = src.split_to(length);

        // control frames must have length <= 125 (RFC 6455 §5.5)
        match opcode {
            OpCode::Ping | OpCode::Pong | OpCode::Close if length > MAX_CONTROL_FRAME_PAYLOAD => {
                return Err(ProtocolError::InvalidLength(length));
            }
            _ => {}
        }

        // unmask
        if let Some(mask) = mask {
            apply_mask(&mut data, mask);
        }

        Ok(Some((finished, opcode, Some(data))))
    }

    /// Parse the payload of a close frame.
    ///
    /// This method preserves the historical behavior of accepting unknown status codes and
    /// replacing invalid UTF-8 in the reason. Use [`Parser::try_parse_close_payload`] when the
    /// payload must be validated.
    #[deprecated(
        since = "3.13.5",
        note = "Use `Parser::try_parse_close_payload` instead."
    )]
    pub fn parse_close_payload(payload: &[u8]) -> Option<CloseReason> {
        if payload.len() >= 2 {
            let raw_code = u16::from_be_bytes(TryFrom::try_from(&payload[..2]).unwrap());
            let code = CloseCode::from(raw_code);
            let description = if payload.len() > 2 {
                Some(String::from_utf8_lossy(&payload[2..]).into())
            } else {
                None
            };
            Some(CloseReason { code, description })
        } else {
            None
        }
    }

    /// Parse and validate the payload of a close frame.
    ///
    /// # Validation
    ///
    /// A close payload is either empty or contains a two-byte status code followed by an optional
    /// UTF-8 reason. This follows [RFC 6455 §5.5.1], with status code rules from [RFC 6455 §7.4]
    /// and UTF-8 error handling from [RFC 6455 §8.1].
    ///
    /// [RFC 6455 §5.5.1]: https://datatracker.ietf.org/doc/html/rfc6455#section-5.5.1
    /// [RFC 6455 §7.4]: https://datatracker.ietf.org/doc/html/rfc6455#section-7.4
    /// [RFC 6455 §8.1]: https://datatracker.ietf.org/doc/html/rfc6455#section-8.1
    pub fn try_parse_close_payload(payload: &[u8]) -> Result<Option<CloseReason>, ProtocolError> {
        // RFC 6455 §5.5.1 requires a two-byte status code when a close payload is not empty.
        if payload.len() == 1 {
            return Err(ProtocolError::InvalidLength(payload.len()));
        }

        if payload.len() >= 2 {
            let raw_code = u16::from_be_bytes(
                payload[..2]
                    .try_into()
                    .expect("Payload length should be checked before parsing"),
            );

            // RFC 6455 §7.4 reserves 1000-2999 for protocol-defined codes. Reject reserved and
            // undefined values while allowing registered codes (3000-3999) and private-use codes
            // (4000-4999).
            if !matches!(raw_code, 1000..=1003 | 1007..=1014 | 3000..=4999) {
                // TODO(semver-major): use this instead
                // return Err(ProtocolError::InvalidCloseCode(raw_code));
                return Err(ProtocolError::BadOpCode);
            }

            if payload.len() > 2 {
                // RFC 6455 §5.5.1 defines the remaining bytes as a UTF-8 reason. RFC 6455 §8.1
                // requires the connection to fail when data interpreted as UTF-8 is invalid.
                str::from_utf8(&payload[2..]).map_err(|_| {
                    // TODO(semver-major): use this instead
                    // ProtocolError::InvalidCloseReason
                    ProtocolError::BadOpCode
                })?;
            }
        }

        #[expect(deprecated)]
        Ok(Self::parse_close_payload(payload))
    }

    /// Generate binary representation
    pub fn write_message<B: AsRef<[u8]>>(
        dst: &mut BytesMut,
        pl: B,
        op: OpCode,
        fin: bool,
        mask: bool,
    ) {
        let payload = pl.as_ref();
        let one = if fin {
            FIN_MASK | u8::from(op)
        } else {
            u8::from(op)
        };
        let payload_len = payload.len();
        let (two, p_len) = if mask {
            (MASK_BIT, payload_len + MASK_LEN)
        } else {
            (0, payload_len)
        };

        if payload_len < EXT_LEN_U16 as usize {
            dst.reserve(p_len + 2);
            dst.put_slice(&[one, two | payload_len as u8]);
        } else if payload_len <= U16_PAYLOAD_MAX {
            dst.reserve(p_len + 4);
            dst.put_slice(&[one, two | EXT_LEN_U16]);
            dst.put_u16(payload_len as u16);
        } else {
            dst.reserve(p_len + 10);
            dst.put_slice(&[one, two | EXT_LEN_U64]);
            dst.put_u64(payload_len as u64);
        };

        if mask {
            let mask = rand::random::<[u8; 4]>();
            dst.put_slice(mask.as_ref());
            dst.put_slice(payload.as_ref());
            let pos = dst.len() - payload_len;
            apply_mask(&mut dst[pos..], mask);
        } else {
            dst.put_slice(payload.as_ref());
        }
    }

    /// Create a new Close control frame.
    #[inline]
    pub fn write_close(dst: &mut BytesMut, reason: Option<CloseReason>, mask: bool) {
        let payload = match reason {
            None => Vec::new(),
            Some(reason) => {
                let mut payload = Into::<u16>::into(reason.code).to_be_bytes().to_vec();
                if let Some(description) = reason.description {
                    payload.extend(description.as_bytes());
                }
                payload
            }
        };

        Parser::write_message(dst, payload, OpCode::Close, true, mask)
    }
}

