pub mod openapi;
pub mod tmux;
