//! Served views (`GET /api/v1/views/{name}`): every view registered as
//! served answers here, and the OpenAPI document describes each with the
//! schema of its row type. Nothing here names a particular view.

use axum::Json;
use axum::extract::{Path, State};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, PathItem, Ref, RefOr, Required, ResponseBuilder};

use crate::error::AppError;
use crate::request::{Query, ViewQuery};
use crate::{AppState, api, routes};

/// One served view's answer.
pub(crate) async fn view(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<ViewQuery>,
) -> Result<Json<api::ViewAnswer>, AppError> {
    let unknown = || {
        AppError::not_found(format!(
            "no view {name:?} (known: {})",
            api::ViewAnswer::known(&state.registry)
        ))
    };
    state
        .registry
        .projections()
        .view(&name)
        .ok_or_else(unknown)?;
    let party = routes::party_param(&state, q.party.as_deref())?;
    api::ViewAnswer::of(&state.registry, &name, party.as_ref())
        .map(Json)
        .ok_or_else(unknown)
}

/// Adds each served view's path to the OpenAPI document, its rows typed
/// by the view's row schema.
pub(crate) fn document(openapi: &mut OpenApi) {
    let components = openapi.components.get_or_insert_with(Default::default);
    for projection in pacta_projections::registered() {
        let Some(view) = projection.served() else {
            continue;
        };
        let (row_name, row_schema) = view.row_schema();
        components.schemas.insert(row_name.clone(), row_schema);
        let answer = ObjectBuilder::new()
            .property("view", ObjectBuilder::new().schema_type(Type::String))
            .required("view")
            .property(
                "version",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            )
            .required("version")
            .property(
                "position",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            )
            .required("position")
            .property(
                "party",
                OneOfBuilder::new()
                    .item(Ref::from_schema_name("PartyRefDto"))
                    .item(ObjectBuilder::new().schema_type(Type::Null)),
            )
            .property(
                "rows",
                ArrayBuilder::new().items(RefOr::Ref(Ref::from_schema_name(row_name))),
            )
            .required("rows")
            .build();
        let ok = ResponseBuilder::new()
            .description(format!(
                "The view {} (version {})",
                view.name(),
                view.version()
            ))
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(RefOr::T(Schema::Object(answer))))
                    .build(),
            )
            .build();
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        let operation = OperationBuilder::new()
            .tag("views")
            .operation_id(Some(format!("view_{}", view.name())))
            .summary(Some(format!("The {} view", view.name())))
            .parameter(
                ParameterBuilder::new()
                    .name("party")
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(
                        "Only what the view says about this party (id or name); all when absent.",
                    ))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
            )
            .response("200", ok)
            .response("400", problem("A parameter cannot be read"))
            .response("404", problem("No such party"))
            .response("409", problem("The party name matches more than one party"))
            .build();
        openapi.paths.paths.insert(
            format!("/api/v1/views/{}", view.name()),
            PathItem::new(HttpMethod::Get, operation),
        );
    }
}
