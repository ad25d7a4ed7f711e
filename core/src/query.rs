//! The one query-string codec of the project: the client encodes with it, and
//! the test transport and the mock server decode with it, so both sides agree
//! on every byte.
//!
//! Encoding keeps RFC 3986 unreserved characters and `*` (which UserSigs
//! use) and percent-encodes everything else, including space and `+`.
//! Decoding follows HTML form encoding, as servers do: `+` is a space, `%XX`
//! is a byte, and a `%` not followed by two hex digits is kept literally
//! rather than rejected, so any input decodes without error.

use std::borrow::Cow;

/// Appends `value` percent-encoded for use as a query key or value.
pub fn encode_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~*".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

/// `value` percent-encoded for use as a query key or value.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    encode_into(&mut out, value);
    out
}

/// Decodes one query key or value; invalid UTF-8 becomes U+FFFD.
///
/// Borrows when there is nothing to decode, the common case for the
/// parameters the client sends.
pub fn decode(s: &str) -> Cow<'_, str> {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => match bytes.get(i + 1..i + 3).and_then(hex_pair) {
                Some(b) => {
                    out.push(b);
                    i += 3;
                }
                None => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

fn hex_pair(pair: &[u8]) -> Option<u8> {
    let digit = |c: u8| char::from(c).to_digit(16);
    let (hi, lo) = (digit(pair[0])?, digit(pair[1])?);
    u8::try_from(hi * 16 + lo).ok()
}

/// Splits a query string (without the `?`) into decoded pairs, in order.
///
/// Empty pieces (`a=1&&b=2`) are skipped; a piece without `=` is a key with
/// an empty value.
pub fn parse(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            (decode(k).into_owned(), decode(v).into_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_reserved_and_non_ascii() {
        assert_eq!(encode("a b/é&=*-_.~+"), "a%20b%2F%C3%A9%26%3D*-_.~%2B");
        assert_eq!(encode(""), "");
    }

    #[test]
    fn decodes_like_forms() {
        assert_eq!(decode("a%2Bb%3d"), "a+b=");
        assert_eq!(decode("a+b"), "a b");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%4"), "%4");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("%C3%A9"), "é");
        assert_eq!(decode("%ff"), "\u{fffd}");
        assert!(matches!(decode("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn round_trips() {
        for s in ["admin user", "a+b=c&d", "eJx*-_.~%", "日本", ""] {
            assert_eq!(decode(&encode(s)), s);
        }
    }

    #[test]
    fn parses_pairs() {
        assert_eq!(
            parse("a=1&&b=x%20y&flag&c=%2B+"),
            [("a", "1"), ("b", "x y"), ("flag", ""), ("c", "+ ")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .to_vec()
        );
        assert!(parse("").is_empty());
    }
}
