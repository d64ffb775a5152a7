//! Channels turn the outside world into domain calls: the web chat widget
//! (more channels come with their issues).

pub mod email;
pub mod visitor_limits;
pub mod webchat;
pub mod whatsapp;
