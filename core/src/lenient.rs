//! Deserializers for fields whose JSON type the documentation contradicts:
//! an integer Tencent sometimes sends as a string of digits (`EventTime`),
//! a string it sometimes sends as a number. Generated code uses them for
//! fields marked `lenient: true`; serializing keeps the declared type.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};

/// An integer read from a number or a string of digits.
struct Int<T>(T);

impl<'de, T> de::Deserialize<'de> for Int<T>
where
    T: TryFrom<i64> + TryFrom<u64> + FromStr,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<T: TryFrom<i64> + TryFrom<u64> + FromStr> Visitor<'_> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer, or a string of digits")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
                T::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
                T::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
                v.trim().parse().map_err(|_| E::custom(format!("`{v}` is not an integer in range")))
            }
        }
        d.deserialize_any(V(PhantomData)).map(Int)
    }
}

/// A string read from a string or a number (kept as its decimal text).
struct Text(String);

impl<'de> de::Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = String;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
                Ok(v.to_owned())
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
                Ok(v)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
                Ok(v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
                Ok(v.to_string())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
                Ok(v.to_string())
            }
        }
        d.deserialize_any(V).map(Text)
    }
}

/// A required integer field: a number or a string of digits.
pub fn int<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64> + TryFrom<u64> + FromStr,
{
    de::Deserialize::deserialize(d).map(|Int(v)| v)
}

/// An optional integer field: absent, `null`, a number or a string of digits.
pub fn opt_int<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64> + TryFrom<u64> + FromStr,
{
    <Option<Int<T>> as de::Deserialize>::deserialize(d).map(|v| v.map(|Int(v)| v))
}

/// A required string field: a string or a number.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    de::Deserialize::deserialize(d).map(|Text(v)| v)
}

/// An optional string field: absent, `null`, a string or a number.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    <Option<Text> as de::Deserialize>::deserialize(d).map(|v| v.map(|Text(v)| v))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn de_int<T: TryFrom<i64> + TryFrom<u64> + FromStr>(v: serde_json::Value) -> Option<T> {
        int(v).ok()
    }

    #[test]
    fn integers_from_numbers_and_digit_strings() {
        assert_eq!(de_int::<u64>(json!(1_695_000_000_123_u64)), Some(1_695_000_000_123));
        assert_eq!(de_int::<u64>(json!("1695000000123")), Some(1_695_000_000_123));
        assert_eq!(de_int::<u32>(json!(" 7 ")), Some(7));
        assert_eq!(de_int::<i32>(json!(-3)), Some(-3));
        assert_eq!(de_int::<u8>(json!(300)), None);
        assert_eq!(de_int::<u32>(json!("-1")), None);
        assert_eq!(de_int::<u32>(json!("soon")), None);
        assert_eq!(de_int::<u32>(json!(true)), None);
        assert_eq!(opt_int::<_, u32>(json!(null)).unwrap(), None);
        assert_eq!(opt_int::<_, u32>(json!("5")).unwrap(), Some(5));
    }

    #[test]
    fn strings_from_strings_and_numbers() {
        assert_eq!(string(json!("a")).unwrap(), "a");
        assert_eq!(string(json!(144115233)).unwrap(), "144115233");
        assert!(string(json!([1])).is_err());
        assert_eq!(opt_string(json!(null)).unwrap(), None);
        assert_eq!(opt_string(json!(12)).unwrap().as_deref(), Some("12"));
    }
}
