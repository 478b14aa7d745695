//! State and update, separate from drawing: `ui::draw` is a pure function of [`State`].

pub mod catalog;
pub mod create;
pub mod create_flow;
pub mod editor;
pub mod form;
pub mod help;
pub mod input;
pub mod keymap;
pub mod lifecycle;
pub mod model_pick;
pub mod state;
pub mod update;

pub use state::{AccountState, Pane, State};
pub use update::{
    ApplyFailure, ApplyRequest, Effect, Landed, LifecycleRequest, Msg, RowDetail, Watch, update,
};
