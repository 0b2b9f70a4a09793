//! Every `{name}` placeholder in an OpenAPI path is declared as an `in: path` parameter.
//!
//! `utoipa::path` only lists the parameters a handler spells out in `params(...)`, and most of
//! ours took `{id}` without saying so, which made the document invalid for generators and
//! schema-driven testers. Rather than rely on every handler remembering, the assembled document
//! is completed here: a missing placeholder becomes a required parameter, an integer when its
//! name is `id` or ends in `_id` (all our ids are), a string otherwise.

use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{OpenApi, Required};

/// Adds the path parameters the operations of `doc` use but do not declare.
pub(crate) fn declare_path_params(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let names = placeholders(path);
        if names.is_empty() {
            continue;
        }
        let declared_on_item: Vec<String> = item
            .parameters
            .iter()
            .flatten()
            .filter(|p| p.parameter_in == ParameterIn::Path)
            .map(|p| p.name.clone())
            .collect();
        let ops: [&mut Option<Operation>; 8] = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for op in ops.into_iter().flatten() {
            let params = op.parameters.get_or_insert_with(Vec::new);
            for name in &names {
                let declared = declared_on_item.contains(name)
                    || params
                        .iter()
                        .any(|p| &p.name == name && p.parameter_in == ParameterIn::Path);
                if !declared {
                    params.push(path_param(name));
                }
            }
        }
    }
}

/// The `{name}`s of a path template, in order.
fn placeholders(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

fn path_param(name: &str) -> utoipa::openapi::path::Parameter {
    let is_id = name == "id" || name.ends_with("_id");
    let schema = if is_id {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
    } else {
        ObjectBuilder::new().schema_type(Type::String)
    };
    let description = if is_id {
        format!("The {} of the resource.", name.replace('_', " "))
    } else {
        format!("The {}.", name.replace('_', " "))
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_in_order() {
        assert_eq!(
            placeholders("/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry"),
            ["id", "delivery_id"]
        );
        assert!(placeholders("/api/v1/agents").is_empty());
    }
}
