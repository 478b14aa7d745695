fn main() {
    println!("infertop: under construction");
}
