//! The request-level features around a verified token, shared by every host (the Envoy filter,
//! the npm package, the CLI): the HTTP gate itself ([`http_gate`]: one request's decision
//! from a [`config`], as an [`outcome`], with rules matched by [`route`]), finding the token in a request ([`credential`]), the request
//! path's normal form ([`request_path`]), the route decision across providers ([`decision`]), the answer to a refused request
//! ([`denial`]), the providers a token can be for ([`issuer_index`]),
//! the verified-token cache ([`cache`]), revocation ([`denylist`]), authorization
//! requirements ([`authz`]) and certificate binding ([`binding`]). All pure: no clock, no I/O.

pub(crate) mod authz;
pub(crate) mod binding;
pub(crate) mod cache;
pub(crate) mod config;
pub(crate) mod credential;
pub(crate) mod decision;
pub(crate) mod denial;
pub(crate) mod denylist;
pub(crate) mod denylist_json;
pub(crate) mod http_gate;
pub(crate) mod issuer_index;
pub(crate) mod outcome;
pub(crate) mod request_path;
pub(crate) mod route;
