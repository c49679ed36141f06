//! The output schema: the `schema { labels {…} payload {…} }` item, checked
//! and turned into the contract every rule is checked against.

use crate::types::{Kinds, Type};
use uml_syntax::ast::{self, FieldName, Literal, SectionKind, TypeExpr};
use uml_syntax::{Code, Diagnostic, FileId, Span};

/// One declared label or payload field.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    pub name: String,
    pub ty: Type,
    /// `name?:` — the record may lack it. Labels are never optional.
    pub optional: bool,
    /// For a label whose type is one string literal: the value it always has.
    pub constant: Option<String>,
    /// The type as the schema writes it, alternatives in their order, for messages.
    pub written: String,
    pub file: FileId,
    pub span: Span,
}

/// The checked schema. Labels and fields keep their declaration order, which
/// is the order the record writer emits them in.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    pub labels: Vec<FieldDecl>,
    pub fields: Vec<FieldDecl>,
    /// The type of undeclared payload fields (`*: …`), if they are allowed.
    pub extra: Option<Type>,
    pub file: FileId,
    pub span: Span,
}

impl Schema {
    pub fn label(&self, name: &str) -> Option<(usize, &FieldDecl)> {
        self.labels.iter().enumerate().find(|(_, f)| f.name == name)
    }

    pub fn field(&self, name: &str) -> Option<(usize, &FieldDecl)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name == name)
    }
}

/// Turns a parsed schema into a [`Schema`], reporting unknown types,
/// duplicates and labels that are not strings.
pub fn lower(file: FileId, schema: &ast::Schema<'_>, diags: &mut Vec<Diagnostic>) -> Schema {
    let mut out = Schema { labels: Vec::new(), fields: Vec::new(), extra: None, file, span: schema.span };
    let mut seen_sections: Vec<(SectionKind, Span)> = Vec::new();
    for section in &schema.sections {
        let (name, what) = match section.kind {
            SectionKind::Labels => ("labels", "label"),
            SectionKind::Payload => ("payload", "payload field"),
        };
        if let Some((_, first)) = seen_sections.iter().find(|(k, _)| *k == section.kind) {
            diags.push(
                Diagnostic::new(Code::DuplicateSchemaItem, format!("the `{name}` section is declared twice"))
                    .primary(file, crate::check::keyword(section.span, name), "second declaration")
                    .secondary(file, crate::check::keyword(*first, name), "first declared here")
                    .help(format!("declare every {what} in one `{name}` section")),
            );
            continue;
        }
        seen_sections.push((section.kind, section.span));
        for decl in &section.fields {
            let ty = lower_type(file, &decl.ty, diags);
            match (&decl.name, section.kind) {
                (FieldName::Wildcard(span), SectionKind::Labels) => diags.push(
                    Diagnostic::new(Code::LabelNotString, "labels cannot have a wildcard")
                        .primary(file, *span, "every label must be named")
                        .note("each extra label multiplies Loki's streams; put per-line metadata in the payload"),
                ),
                (FieldName::Wildcard(span), SectionKind::Payload) => {
                    if out.extra.is_some() {
                        diags.push(
                            Diagnostic::new(Code::DuplicateSchemaItem, "the payload wildcard `*` is declared twice")
                                .primary(file, *span, "second wildcard"),
                        );
                    }
                    out.extra = Some(ty);
                }
                (FieldName::Named(key), kind) => {
                    let list = if kind == SectionKind::Labels { &out.labels } else { &out.fields };
                    if let Some(first) = list.iter().find(|f| f.name == key.name) {
                        diags.push(
                            Diagnostic::new(Code::DuplicateSchemaItem, format!("`{}` is declared twice", key.name))
                                .primary(file, key.span, "second declaration")
                                .secondary(file, first.span, "first declared here"),
                        );
                        continue;
                    }
                    if kind == SectionKind::Labels {
                        if !ty.is_only(Kinds::STRING) {
                            diags.push(
                                Diagnostic::new(
                                    Code::LabelNotString,
                                    format!("label `{}` has type `{ty}`; labels are strings", key.name),
                                )
                                .primary(file, decl.ty.span(), "not a string type"),
                            );
                        }
                        if decl.optional {
                            diags.push(
                                Diagnostic::new(Code::LabelNotString, "labels cannot be optional")
                                    .primary(file, decl.span, "every record carries every label")
                                    .note("a stream's labels are the same on all its records"),
                            );
                        }
                    }
                    let constant = (kind == SectionKind::Labels).then(|| ty.as_literal().map(str::to_string)).flatten();
                    let decl = FieldDecl {
                        name: key.name.to_string(),
                        ty,
                        optional: decl.optional,
                        constant,
                        written: written(&decl.ty),
                        file,
                        span: key.span,
                    };
                    if kind == SectionKind::Labels { out.labels.push(decl) } else { out.fields.push(decl) }
                }
            }
        }
    }
    out
}

/// A type expression as written (normalised spacing), e.g. `"DEBUG" | "INFO"`.
fn written(ty: &TypeExpr<'_>) -> String {
    match ty {
        TypeExpr::Named(ident) => ident.name.to_string(),
        TypeExpr::Literal(Literal::Str(s, _), _) => format!("{s:?}"),
        TypeExpr::Literal(Literal::Null, _) => "null".into(),
        TypeExpr::Literal(Literal::Bool(b), _) => b.to_string(),
        TypeExpr::Literal(Literal::Int(i), _) => i.to_string(),
        TypeExpr::Literal(Literal::Float(f), _) => f.to_string(),
        TypeExpr::Literal(..) => "?".into(),
        TypeExpr::Union(alternatives, _) => alternatives.iter().map(written).collect::<Vec<_>>().join(" | "),
    }
}

fn lower_type(file: FileId, ty: &TypeExpr<'_>, diags: &mut Vec<Diagnostic>) -> Type {
    match ty {
        TypeExpr::Named(ident) => {
            match ident.name {
                "string" => Type::STRING,
                "int" => Type::INT,
                "float" => Type::FLOAT,
                "bool" => Type::BOOL,
                "null" => Type::NULL,
                "array" => Type::ARRAY,
                "object" => Type::OBJECT,
                "any" => Type::ANY,
                other => {
                    diags.push(
                    Diagnostic::new(Code::UnknownType, format!("unknown type `{other}`"))
                        .primary(file, ident.span, "not a type")
                        .help("the types are string, int, float, bool, null, array, object and any, or a string literal"),
                );
                    Type::ANY
                }
            }
        }
        TypeExpr::Literal(lit, span) => match lit {
            Literal::Str(s, _) => Type::literal(s),
            Literal::Null => Type::NULL,
            other => {
                let (kind, ty) = match other {
                    Literal::Bool(_) => ("bool", Type::BOOL),
                    Literal::Int(_) => ("int", Type::INT),
                    _ => ("float", Type::FLOAT),
                };
                diags.push(
                    Diagnostic::new(Code::UnknownType, "only string literals can be used as types")
                        .primary(file, *span, format!("write `{kind}` here"))
                        .note("literal types describe enumerations and constant labels, which are strings"),
                );
                ty
            }
        },
        TypeExpr::Union(alternatives, _) => {
            alternatives.iter().fold(Type::NEVER, |acc, alt| acc.union(&lower_type(file, alt, diags)))
        }
    }
}
