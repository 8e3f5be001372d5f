//! Shortens the names of the wasm's JS imports, in the `.wasm` and the JS glue together.
//!
//! wasm-bindgen names every import `__wbg_<method>_<16 hex digits>`, and each name is written
//! twice: in the wasm's import section and as a key of the glue's imports object. The hex
//! digits do not compress, so ~80 imports cost ~3 KB gzip. Renaming them to `w0`, `w1`, …
//! (binaryen's `--minify-imports` only handles `env` imports) keeps the package the same
//! program with shorter names. The import module (`./…_bg.js`, repeated per import) becomes
//! `m0` the same way.
//!
//! A name is renamed only if it occurs exactly once in the glue (the imports-object key);
//! anything else is left as it is, so an unexpected glue shape costs bytes, never correctness.

/// Renames the `__wbg_*` imports of `wasm` in both `wasm` and `js`; returns how many.
pub fn shorten(wasm: &[u8], js: &str) -> Result<(Vec<u8>, String, usize), String> {
    let mut js = js.to_owned();
    let mut renamed = 0;
    let mut out = Vec::with_capacity(wasm.len());
    let header = wasm.get(..8).ok_or("the .wasm is shorter than its header")?;
    if header.get(..4) != Some(b"\0asm".as_slice()) {
        return Err("not a .wasm file".into());
    }
    out.extend_from_slice(header);
    let mut r = Reader { bytes: wasm, at: 8 };
    while r.at < wasm.len() {
        let id = r.byte()?;
        let len = r.leb()? as usize;
        let body = r.take(len)?;
        if id != 2 {
            out.push(id);
            write_leb(&mut out, len as u64);
            out.extend_from_slice(body);
            continue;
        }
        let mut section = Vec::with_capacity(body.len());
        let mut s = Reader { bytes: body, at: 0 };
        let count = s.leb()?;
        write_leb(&mut section, count);
        let mut modules: Vec<(String, String)> = vec![];
        for _ in 0..count {
            let module = s.name()?;
            let field = s.name()?;
            let desc_start = s.at;
            s.import_desc()?;
            let desc = &body[desc_start..s.at];
            let field = std::str::from_utf8(field).map_err(|_| "an import name is not UTF-8")?;
            let short = format!("w{renamed:x}");
            let new_name = if field.starts_with("__wbg_") && js.matches(field).count() == 1 {
                js = js.replacen(field, &short, 1);
                renamed += 1;
                short.as_str()
            } else {
                field
            };
            let module = short_module(module, &mut modules, &mut js)?;
            write_name(&mut section, module.as_bytes());
            write_name(&mut section, new_name.as_bytes());
            section.extend_from_slice(desc);
        }
        if s.at != body.len() {
            return Err("the import section has trailing bytes".into());
        }
        out.push(id);
        write_leb(&mut out, section.len() as u64);
        out.extend_from_slice(&section);
    }
    Ok((out, js, renamed))
}

/// The short name of import module `module` (`./…_bg.js`, written once per import): `m0`,
/// `m1`, … if its quoted name occurs exactly once in the glue (the imports-object key), which
/// is then renamed too; otherwise the name as it is.
fn short_module(module: &[u8], modules: &mut Vec<(String, String)>, js: &mut String) -> Result<String, String> {
    let module = std::str::from_utf8(module).map_err(|_| "an import module name is not UTF-8")?;
    if let Some((_, short)) = modules.iter().find(|(long, _)| long == module) {
        return Ok(short.clone());
    }
    let quoted = ["\"", module, "\""].concat();
    let short = if js.matches(&quoted).count() == 1 {
        let short = format!("m{}", modules.len());
        *js = js.replacen(&quoted, &["\"", &short, "\""].concat(), 1);
        short
    } else {
        module.to_owned()
    };
    modules.push((module.to_owned(), short.clone()));
    Ok(short)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.bytes.get(self.at).ok_or("the .wasm ends early")?;
        self.at += 1;
        Ok(b)
    }

    fn leb(&mut self) -> Result<u64, String> {
        let (mut value, mut shift) = (0u64, 0);
        loop {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(value);
            }
            shift += 7;
            if shift > 63 {
                return Err("a LEB128 number in the .wasm is too long".into());
            }
        }
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        let bytes = self.bytes.get(self.at..self.at + len).ok_or("the .wasm ends early")?;
        self.at += len;
        Ok(bytes)
    }

    fn name(&mut self) -> Result<&'a [u8], String> {
        let len = self.leb()? as usize;
        self.take(len)
    }

    /// Skips an import's description: function type index, table, memory, global or tag.
    fn import_desc(&mut self) -> Result<(), String> {
        match self.byte()? {
            0x00 => self.leb().map(drop),
            0x01 => {
                self.byte()?; // reference type
                self.limits()
            }
            0x02 => self.limits(),
            0x03 => self.take(2).map(drop), // value type, mutability
            0x04 => {
                self.byte()?; // tag attribute
                self.leb().map(drop)
            }
            kind => Err(format!("unknown import kind {kind:#x} in the .wasm")),
        }
    }

    fn limits(&mut self) -> Result<(), String> {
        let flags = self.byte()?;
        self.leb()?;
        if flags & 1 != 0 {
            self.leb()?;
        }
        Ok(())
    }
}

fn write_leb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let b = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn write_name(out: &mut Vec<u8>, name: &[u8]) {
    write_leb(out, name.len() as u64);
    out.extend_from_slice(name);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with one type, two function imports and a memory import.
    fn module(glue: &str, names: &[&str]) -> Vec<u8> {
        let mut imports = vec![];
        write_leb(&mut imports, names.len() as u64 + 1);
        for name in names {
            write_name(&mut imports, glue.as_bytes());
            write_name(&mut imports, name.as_bytes());
            imports.extend_from_slice(&[0x00, 0x00]); // function of type 0
        }
        write_name(&mut imports, b"env");
        write_name(&mut imports, b"memory");
        imports.extend_from_slice(&[0x02, 0x01, 0x01, 0x02]); // memory, min 1, max 2
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend_from_slice(&[0x01, 0x04, 0x01, 0x60, 0x00, 0x00]); // type section: () -> ()
        wasm.push(0x02);
        write_leb(&mut wasm, imports.len() as u64);
        wasm.extend_from_slice(&imports);
        wasm
    }

    #[test]
    fn renames_imports_in_wasm_and_glue_alike() {
        let names = ["__wbg_log_0123456789abcdef", "__wbg_now_fedcba9876543210"];
        let js = r#"const i = { __wbg_log_0123456789abcdef: f, __wbg_now_fedcba9876543210: g }; x = { "./glue.js": i };"#;
        let (wasm, js, n) = shorten(&module("./glue.js", &names), js).unwrap();
        assert_eq!(n, 2);
        assert_eq!(wasm, module("m0", &["w0", "w1"]));
        assert_eq!(js, r#"const i = { w0: f, w1: g }; x = { "m0": i };"#);
    }

    #[test]
    fn names_not_found_exactly_once_are_kept() {
        let names = ["__wbg_a_0000000000000001", "__wbg_b_0000000000000002"];
        let js = "{ __wbg_a_0000000000000001: f } // __wbg_a_0000000000000001";
        let (wasm, js2, n) = shorten(&module("./glue.js", &names), js).unwrap();
        assert_eq!(n, 0);
        assert_eq!(wasm, module("./glue.js", &names));
        assert_eq!(js2, js);
    }

    #[test]
    fn truncated_input_is_an_error() {
        let wasm = module("./glue.js", &["__wbg_a_0000000000000001"]);
        assert!(shorten(&wasm[..wasm.len() - 3], "").is_err());
        assert!(shorten(b"nope", "").is_err());
    }
}
