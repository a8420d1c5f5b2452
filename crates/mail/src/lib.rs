//! caredesk's mail: what each notice says, in the recipient's language.
//!
//! Templates are data: one TOML file per language (`templates/en.toml`…), built in, each
//! overridable by the operator with a file of the same name in a directory of their own,
//! without a rebuild (see `Templates::load`).

pub mod templates;

pub use templates::{MailContext, RenderedMail, TemplateError, Templates};
