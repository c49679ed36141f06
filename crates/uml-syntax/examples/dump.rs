fn main() {
    let path = std::env::args().nth(1).expect("path");
    let src = std::fs::read_to_string(path).unwrap();
    let parsed = uml_syntax::parse(uml_syntax::FileId(0), &src);
    if std::env::args().nth(2).is_some() {
        println!("{:#?}", parsed.file);
    }
    for d in &parsed.diagnostics {
        println!("{} {:?} {}", d.code, d.primary_span(), d.message);
    }
    println!("{} items", parsed.file.items.len());
}
