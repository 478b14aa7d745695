pub mod openapi;
pub mod screen;
pub mod tmux;
pub mod wire;
