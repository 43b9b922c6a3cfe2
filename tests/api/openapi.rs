//! The API document (`GET /api-docs/openapi.json`) and its page (`GET /api-docs`).
//!
//! Route coverage: the routes are read from the route table's own source. `routes` in
//! `src/api/mod.rs` is parsed with `syn` and its builder chains are followed — `web::scope`,
//! `web::resource`, `.route(...)`, `.get(...)`/`.post(...)`/..., `.service(...)`,
//! `.configure(module::routes)` into other files, calls of helper functions such as
//! `account_routes()`, and `if` blocks (so `/metrics`, routed only with `--metrics`, counts) —
//! giving every (method, path) the server answers. The test then asks that set and the
//! document's operations to be equal: a route added to the table without a documented handler
//! fails it, and so does a documented operation that is no longer routed. A construct the walker
//! does not know (a new builder method, a `let`, a loop) fails it too, naming the construct, so a
//! route can never slip past unseen.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use quote::ToTokens;
use serde_json::Value;

use crate::helpers::spawn_app;

type Route = (String, String);

const HTTP_METHODS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options"];

#[tokio::test]
async fn document_is_openapi_3_1_and_covers_every_route() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api-docs/openapi.json"))
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let document: Value = response.json().await.expect("JSON");
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        document["openapi"]
    );

    let documented = documented_operations(&document);
    let routed = RouteTable::read().routes();
    assert!(routed.len() > 90, "the walker found only {routed:?}");
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the API document (add #[utoipa::path] to the handler and list it \
         in openapi::ApiDoc): {undocumented:#?}"
    );
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:#?}"
    );
}

#[tokio::test]
async fn document_is_well_formed() {
    let app = spawn_app().await;
    let document: Value = app
        .client
        .get(app.url("/api-docs/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let mut refs = Vec::new();
    collect_refs(&document, &mut refs);
    for reference in refs {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {reference}"));
        assert!(
            schemas.contains_key(name),
            "$ref to a missing schema {name}"
        );
    }
    let mut ids = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if !HTTP_METHODS.contains(&method.as_str()) {
                continue;
            }
            let id = operation["operationId"].as_str().unwrap().to_string();
            assert!(ids.insert(id.clone()), "operationId {id} twice");
            // Every `{name}` of the path is declared as a path parameter.
            let declared: BTreeSet<&str> = operation["parameters"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .filter(|p| p["in"] == "path")
                        .map(|p| p["name"].as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            let named: BTreeSet<&str> = path_parameters(path).collect();
            assert_eq!(declared, named, "{method} {path}");
            let secured = operation.get("security").is_some();
            let expects_token = path.starts_with("/api/v1/")
                && !path.starts_with("/api/v1/invitations/")
                || path.starts_with("/__wootlite/");
            assert_eq!(secured, expects_token, "{method} {path}");
        }
    }
    assert!(
        document["components"]["securitySchemes"]["api_access_token"]["in"] == "header",
        "{}",
        document["components"]["securitySchemes"]
    );
}

#[tokio::test]
async fn documentation_page_uses_only_local_assets() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api-docs"))
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'none'"), "{policy}");
    let page = response.text().await.unwrap();

    let references = attribute_values(&page, &["src", "href", "spec-url"]);
    assert!(
        references.contains(&"api-docs/openapi.json".to_string()),
        "{references:?}"
    );
    for reference in &references {
        assert!(
            !reference.contains("//") && !reference.contains(':'),
            "{reference} is not local"
        );
    }
    assert!(!page.contains("http://") && !page.contains("https://"));

    // Every reference is served: the page sits at /api-docs, so they resolve against "/".
    for reference in &references {
        let response = app
            .client
            .get(app.url(&format!("/{reference}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{reference}");
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        let body = response.bytes().await.unwrap();
        if reference.ends_with(".js") {
            assert!(kind.starts_with("text/javascript"), "{kind}");
            assert!(body.len() > 100_000, "{} bytes", body.len());
            assert!(String::from_utf8_lossy(&body[..200]).contains("license"));
        }
    }
}

/// `src`, `href` and `spec-url` values of the page.
fn attribute_values(page: &str, names: &[&str]) -> Vec<String> {
    let mut values = Vec::new();
    for name in names {
        let needle = format!(" {name}=\"");
        let mut rest = page;
        while let Some(at) = rest.find(&needle) {
            rest = &rest[at + needle.len()..];
            let end = rest.find('"').unwrap();
            values.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    values
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(reference)) => out.push(reference.clone()),
                    _ => collect_refs(value, out),
                }
            }
        }
        Value::Array(list) => list.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
}

fn documented_operations(document: &Value) -> BTreeSet<Route> {
    let mut out = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().unwrap().keys() {
            if HTTP_METHODS.contains(&method.as_str()) {
                out.insert((method.clone(), path.clone()));
            }
        }
    }
    out
}

/// The route table as written: the parsed source files it spans.
struct RouteTable {
    files: HashMap<PathBuf, syn::File>,
}

/// What a builder chain is building: a scope (or the `ServiceConfig`) under a prefix, or one
/// resource at a path.
enum Kind {
    Scope(String),
    Resource(String),
}

impl RouteTable {
    fn read() -> Self {
        Self {
            files: HashMap::new(),
        }
    }

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api/mod.rs")
    }

    fn routes(mut self) -> BTreeSet<Route> {
        let mut out = BTreeSet::new();
        self.walk_fn(&Self::root(), "routes", "", &mut out);
        out
    }

    fn parsed(&mut self, file: &Path) -> syn::File {
        self.files
            .entry(file.to_path_buf())
            .or_insert_with(|| {
                let text = std::fs::read_to_string(file)
                    .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
            })
            .clone()
    }

    fn function(&mut self, file: &Path, name: &str) -> syn::ItemFn {
        self.parsed(file)
            .items
            .into_iter()
            .find_map(|item| match item {
                syn::Item::Fn(f) if f.sig.ident == name => Some(f),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no fn {name} in {}", file.display()))
    }

    /// The file of `module` declared in `file`'s module (`foo.rs` or `foo/mod.rs` beside a
    /// `mod.rs`; under `stem/` for a `stem.rs`).
    fn module_file(file: &Path, module: &str) -> PathBuf {
        let dir = if file.file_name().unwrap() == "mod.rs" {
            file.parent().unwrap().to_path_buf()
        } else {
            file.with_extension("")
        };
        let flat = dir.join(format!("{module}.rs"));
        if flat.exists() {
            flat
        } else {
            dir.join(module).join("mod.rs")
        }
    }

    /// The function a path such as `account_routes` or `public::routes` names, from `file`.
    fn resolve(file: &Path, path: &syn::Path) -> (PathBuf, String) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let (name, modules) = segments.split_last().unwrap();
        let mut file = file.to_path_buf();
        for module in modules {
            match module.as_str() {
                "self" => {}
                "super" | "crate" => panic!("route functions by {module}:: are not followed"),
                module => file = Self::module_file(&file, module),
            }
        }
        (file, name.clone())
    }

    /// All routes a function's body registers (a `ServiceConfig` function) or returns (a
    /// function building a scope).
    fn walk_fn(&mut self, file: &Path, name: &str, prefix: &str, out: &mut BTreeSet<Route>) {
        let function = self.function(file, name);
        self.walk_block(file, &function.block, prefix, out);
    }

    fn walk_block(
        &mut self,
        file: &Path,
        block: &syn::Block,
        prefix: &str,
        out: &mut BTreeSet<Route>,
    ) {
        for statement in &block.stmts {
            match statement {
                syn::Stmt::Expr(expr, _) => self.walk_statement(file, expr, prefix, out),
                other => panic!(
                    "route table: statement not understood: {}",
                    other.to_token_stream()
                ),
            }
        }
    }

    fn walk_statement(
        &mut self,
        file: &Path,
        expr: &syn::Expr,
        prefix: &str,
        out: &mut BTreeSet<Route>,
    ) {
        match expr {
            syn::Expr::If(branch) => {
                self.walk_block(file, &branch.then_branch, prefix, out);
                if let Some((_, otherwise)) = &branch.else_branch {
                    self.walk_statement(file, otherwise, prefix, out);
                }
            }
            syn::Expr::Block(block) => self.walk_block(file, &block.block, prefix, out),
            expr => {
                self.chain(file, expr, prefix, out);
            }
        }
    }

    /// Follows a builder chain from its root, adding the routes it registers.
    fn chain(
        &mut self,
        file: &Path,
        expr: &syn::Expr,
        prefix: &str,
        out: &mut BTreeSet<Route>,
    ) -> Kind {
        match expr {
            syn::Expr::Paren(inner) => self.chain(file, &inner.expr, prefix, out),
            syn::Expr::Reference(inner) => self.chain(file, &inner.expr, prefix, out),
            // `cfg`: the ServiceConfig itself.
            syn::Expr::Path(path) if path.path.segments.len() == 1 => Kind::Scope(prefix.into()),
            syn::Expr::Call(call) => {
                let syn::Expr::Path(function) = &*call.func else {
                    panic!(
                        "route table: call not understood: {}",
                        call.to_token_stream()
                    );
                };
                let last = function.path.segments.last().unwrap().ident.to_string();
                match last.as_str() {
                    "scope" => Kind::Scope(format!("{prefix}{}", literal(file, &call.args[0]))),
                    "resource" => {
                        Kind::Resource(format!("{prefix}{}", literal(file, &call.args[0])))
                    }
                    _ => {
                        // A helper building routes, e.g. `account_routes()`.
                        let (file, name) = Self::resolve(file, &function.path);
                        self.walk_fn(&file, &name, prefix, out);
                        Kind::Scope(prefix.into())
                    }
                }
            }
            syn::Expr::MethodCall(call) => {
                let kind = self.chain(file, &call.receiver, prefix, out);
                let method = call.method.to_string();
                let args: Vec<&syn::Expr> = call.args.iter().collect();
                match (method.as_str(), &kind) {
                    ("route", Kind::Scope(at)) => {
                        let path = format!("{at}{}", literal(file, args[0]));
                        out.insert((route_method(args[1]), path));
                    }
                    ("route", Kind::Resource(at)) => {
                        out.insert((route_method(args[0]), at.clone()));
                    }
                    (verb, Kind::Resource(at)) if HTTP_METHODS.contains(&verb) => {
                        out.insert((verb.to_string(), at.clone()));
                    }
                    ("service", Kind::Scope(at)) => {
                        let at = at.clone();
                        self.chain(file, args[0], &at, out);
                    }
                    ("configure", Kind::Scope(at)) => {
                        let syn::Expr::Path(function) = args[0] else {
                            panic!("route table: configure with {}", args[0].to_token_stream());
                        };
                        let (file, name) = Self::resolve(file, &function.path);
                        let at = at.clone();
                        self.walk_fn(&file, &name, &at, out);
                    }
                    // Middleware, data and the not-found answer add no route.
                    ("wrap" | "app_data" | "default_service" | "name", _) => {}
                    _ => panic!(
                        "route table: .{method}(...) not understood in {}",
                        call.to_token_stream()
                    ),
                }
                kind
            }
            other => panic!(
                "route table: expression not understood: {}",
                other.to_token_stream()
            ),
        }
    }
}

fn literal(file: &Path, expr: &syn::Expr) -> String {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) => text.value(),
        // A constant such as `openapi::DOCUMENT_PATH`: its value, from its file.
        syn::Expr::Path(path) => {
            let (file, name) = RouteTable::resolve(file, &path.path);
            let text = std::fs::read_to_string(&file).unwrap();
            let parsed = syn::parse_file(&text).unwrap();
            parsed
                .items
                .iter()
                .find_map(|item| match item {
                    syn::Item::Const(c) if c.ident == name => Some(literal(&file, &c.expr)),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("no const {name} in {}", file.display()))
        }
        other => panic!(
            "route table: path not understood: {}",
            other.to_token_stream()
        ),
    }
}

/// The method of `web::get().to(handler)` and the like.
fn route_method(expr: &syn::Expr) -> String {
    let mut expr = expr;
    while let syn::Expr::MethodCall(call) = expr {
        expr = &call.receiver;
    }
    if let syn::Expr::Call(call) = expr {
        if let syn::Expr::Path(function) = &*call.func {
            let name = function.path.segments.last().unwrap().ident.to_string();
            if HTTP_METHODS.contains(&name.as_str()) {
                return name;
            }
        }
    }
    panic!(
        "route table: route method not understood: {}",
        expr.to_token_stream()
    )
}
