pub mod app;
pub mod openapi;
pub mod proxy;
pub mod screen;
pub mod temp;
pub mod tmux;
pub mod wire;
