//! State and update, separate from drawing: `ui::draw` is a pure function of [`State`].

pub mod bulk;
pub mod catalog;
pub mod command;
pub mod cost;
pub mod create;
pub mod create_flow;
pub mod edit;
pub mod editor;
pub mod fleet;
pub mod form;
pub mod help;
pub mod history;
pub mod in_flight;
pub mod input;
pub mod keymap;
pub mod layout;
pub mod lifecycle;
pub mod model_pick;
pub mod mouse;
pub mod state;
pub mod table;
pub mod theme;
pub mod update;
pub mod watch;

pub use state::{AccountState, DetailsProgress, Pane, State};
pub use update::{
    ApplyFailure, ApplyRequest, Effect, Landed, LifecycleRequest, Msg, RowDetail, Watch, update,
};
