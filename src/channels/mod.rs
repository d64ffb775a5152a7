//! Channels turn the outside world into domain calls: the web chat widget
//! (more channels come with their issues).

pub mod webchat;
