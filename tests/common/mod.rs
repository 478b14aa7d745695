pub mod openapi;
pub mod tmux;
pub mod wire;
