fn main() {
    let mut buf = itoa::Buffer::new();
    println!("{:?} {}", memchr::memchr(b'l', b"hello"), buf.format(42));
}
