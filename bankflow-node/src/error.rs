//! The one mapping from engine errors to JavaScript errors.
//!
//! Every rejected promise carries a real `Error` whose `code` is the engine's stable code
//! (`"insufficient_funds"`, `"not_found"`, ...) and, for validation errors, a `field`.

use bankflow_core::BankError;
use napi::bindgen_prelude::*;
use napi::{Env, JsValue};

/// Builds the JS `Error` for an engine error. Must run on the JS thread (it creates a JS
/// object); the returned `napi::Error` holds that object, and napi rejects with it verbatim.
pub(crate) fn to_js(env: &Env, e: &BankError) -> Error {
    let build = || -> Result<Error> {
        let mut obj = env.create_error(Error::from_reason(e.to_string()))?;
        obj.set("code", e.code())?;
        if let BankError::Validation { field, .. } = e {
            obj.set("field", field.as_str())?;
        }
        Ok(Error::from(obj.to_unknown()))
    };
    // Creating a JS object fails only while the environment shuts down; napi's own error
    // (with its status as `code`) is all that can be reported then.
    build().unwrap_or_else(|napi_err| napi_err)
}
