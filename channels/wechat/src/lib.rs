//! # kefu-channel-wechat — WeChat Official Account and WeCom customer service
//!
//! Work in progress.

mod api;
#[cfg(test)]
mod conformance_tests;
pub mod crypto;
mod inbound;
mod ingress;
#[cfg(test)]
mod mock;
mod official;
mod settings;
pub mod xml;

pub use ingress::Clock;
pub use official::{KIND as WECHAT_KIND, OfficialAccountFactory};
