//! proptest strategies for any request message, derived from its descriptor:
//! random but structured messages (every field of its declared type, with
//! empty, huge, unicode, NUL and control-character strings, unknown enum
//! values, extreme and malformed timestamps, nested messages), mutations of
//! the valid requests a test supplies (one or two fields changed, so the
//! rest of the request gets past validation), and arbitrary wire bytes.
//!
//! - [`hints`]: what a test tells the generator; [`payload`]: what it makes.
//! - This file: messages of any type, and mutations of the seeds.
//! - [`scalars`], [`strings`], [`times`]: the values of each field type.
//! - [`wire`]: raw bytes, valid protobuf or not.

mod hints;
mod payload;
mod scalars;
mod strings;
mod times;
mod wire;

use std::sync::Arc;

use proptest::{collection::vec, option, prelude::*, sample::select, strategy::Union};

use super::dynamic::{self, DURATION, Field, FieldInfo, Msg, TIMESTAMP, Types, Value};
use times::duration;

pub use hints::Hints;
pub use payload::{Payload, Wire};

/// Nested messages deeper than this are generated empty.
const MAX_DEPTH: usize = 4;

/// Builds strategies for the message types of one descriptor set.
#[derive(Debug, Clone)]
pub struct Generator {
    types: Arc<Types>,
    hints: Arc<Hints>,
    now: i64,
}

impl Generator {
    pub fn new(types: Arc<Types>, hints: Arc<Hints>) -> Self {
        Self {
            types,
            hints,
            now: chrono::Utc::now().timestamp(),
        }
    }

    /// Requests of `type_name` for `method`: mutated seeds, random
    /// messages, the seeds themselves and raw wire bytes.
    pub fn payload(&self, method: &str, type_name: &str) -> BoxedStrategy<Payload> {
        let seeds: Vec<Msg> = self
            .hints
            .seeds
            .get(method)
            .into_iter()
            .flatten()
            .map(|bytes| {
                dynamic::decode(&self.types, type_name, bytes)
                    .unwrap_or_else(|e| panic!("the seed of {method} is not a {type_name}: {e:?}"))
            })
            .collect();
        let mut arms: Vec<(u32, BoxedStrategy<Payload>)> = vec![
            (
                3,
                self.message(type_name, 0)
                    .prop_map(Payload::Message)
                    .boxed(),
            ),
            (
                2,
                self.wire(type_name, &seeds).prop_map(Payload::Wire).boxed(),
            ),
        ];
        if !seeds.is_empty() {
            let mutations: Vec<_> = seeds.iter().map(|seed| self.mutate(seed, 0)).collect();
            arms.push((6, Union::new(mutations).prop_map(Payload::Message).boxed()));
            arms.push((1, select(seeds).prop_map(Payload::Message).boxed()));
        }
        Union::new_weighted(arms).boxed()
    }

    /// A random message of `type_name`.
    pub fn message(&self, type_name: &str, depth: usize) -> BoxedStrategy<Msg> {
        match type_name {
            TIMESTAMP => return self.timestamp(),
            DURATION => return duration(),
            _ => {}
        }
        let name = type_name.to_owned();
        if depth >= MAX_DEPTH {
            return Just(Msg::empty(&name)).boxed();
        }
        let fields: Vec<BoxedStrategy<Option<Field>>> = self
            .types
            .fields(type_name)
            .iter()
            .map(|info| option::weighted(0.7, self.field(info, depth)).boxed())
            .collect();
        fields
            .prop_map(move |fields| Msg {
                type_name: name.clone(),
                fields: fields.into_iter().flatten().collect(),
            })
            .boxed()
    }

    /// `seed` with a few of its fields (at any depth) replaced by random
    /// values, dropped or added.
    fn mutate(&self, seed: &Msg, depth: usize) -> BoxedStrategy<Msg> {
        if matches!(seed.type_name.as_str(), TIMESTAMP | DURATION) {
            return prop_oneof![4 => Just(seed.clone()), 1 => self.message(&seed.type_name, depth)]
                .boxed();
        }
        let fields: Vec<BoxedStrategy<Option<Field>>> = self
            .types
            .fields(&seed.type_name)
            .iter()
            .map(|info| {
                let random = self.field(info, depth).prop_map(Some);
                match seed.fields.iter().find(|f| f.number == info.number) {
                    Some(present) => {
                        let mut arms: Vec<(u32, BoxedStrategy<Option<Field>>)> = vec![
                            (16, Just(Some(present.clone())).boxed()),
                            (2, random.boxed()),
                            (1, Just(None).boxed()),
                        ];
                        if let (false, [Value::Message(nested)]) =
                            (info.repeated, present.values.as_slice())
                        {
                            let field = present.clone();
                            arms.push((
                                3,
                                self.mutate(nested, depth + 1)
                                    .prop_map(move |m| {
                                        Some(Field {
                                            values: vec![Value::Message(m)],
                                            ..field.clone()
                                        })
                                    })
                                    .boxed(),
                            ));
                        }
                        Union::new_weighted(arms).boxed()
                    }
                    None => prop_oneof![12 => Just(None), 1 => random].boxed(),
                }
            })
            .collect();
        let name = seed.type_name.clone();
        fields
            .prop_map(move |fields| Msg {
                type_name: name.clone(),
                fields: fields.into_iter().flatten().collect(),
            })
            .boxed()
    }

    fn field(&self, info: &FieldInfo, depth: usize) -> BoxedStrategy<Field> {
        let value = self.value(info, depth);
        let (number, name) = (info.number, info.name.clone());
        let values = if info.repeated {
            prop_oneof![9 => vec(value.clone(), 0..4), 1 => vec(value, 20..110)].boxed()
        } else {
            value.prop_map(|v| vec![v]).boxed()
        };
        values
            .prop_map(move |values| Field {
                number,
                name: name.clone(),
                values,
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests;
