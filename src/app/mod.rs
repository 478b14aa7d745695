//! State and update, separate from drawing: `ui::draw` is a pure function of [`State`].

pub mod catalog;
pub mod create;
pub mod create_flow;
pub mod form;
pub mod input;
pub mod keymap;
pub mod state;
pub mod update;

pub use state::{AccountState, Pane, State};
pub use update::{
    ApplyFailure, ApplyRequest, Effect, Landed, LifecycleRequest, Msg, RowDetail, Watch, update,
};
