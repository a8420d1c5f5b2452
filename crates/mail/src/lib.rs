//! caredesk's mail: what each notice says in the recipient's language, the message that
//! carries it, and the way it goes out.
//!
//! Templates are data: one TOML file per language (`templates/en.toml`…), built in, each
//! overridable by the operator with a file of the same name in a directory of their own,
//! without a rebuild (see `Templates::load`).

pub mod inbound;
pub mod message;
pub mod templates;
pub mod text_table;
pub mod transport;

pub use message::{
    Addressee, Attached, ComposeError, Mailbox, MessageIds, Outgoing, compose, sender,
};
pub use templates::{
    CommunityContext, MailContext, MonthlyContext, ReleaseContext, RenderedMail, ReportTerms,
    SignInContext, TemplateError, Templates, Terms,
};
pub use transport::{SendError, SmtpClient, SmtpSecurity, SmtpSettings, Transport, TransportError};
