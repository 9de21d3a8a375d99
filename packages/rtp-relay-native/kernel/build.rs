//! Compiles bpf/relay.bpf.c with clang's BPF target into OUT_DIR/relay.bpf.o.
//! When clang is missing or fails, an empty object is written and the library
//! reports the reason from `KernelPath::open` (Unsupported) instead of failing the build.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const SOURCE: &str = "bpf/relay.bpf.c";

fn main() {
    println!("cargo:rerun-if-changed={SOURCE}");
    println!("cargo:rerun-if-env-changed=CLANG");
    println!("cargo:rerun-if-env-changed=SB_BPF_SKIP");
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let object = out.join("relay.bpf.o");
    let note = match compile(&object) {
        Ok(()) => String::new(),
        Err(reason) => {
            println!("cargo:warning=kernel fast path disabled: {reason}");
            fs::write(&object, []).expect("write empty BPF object");
            reason
        }
    };
    println!(
        "cargo:rustc-env=SB_BPF_BUILD_NOTE={}",
        note.replace('\n', " ")
    );
}

fn compile(object: &Path) -> Result<(), String> {
    if env::var_os("SB_BPF_SKIP").is_some() {
        return Err("SB_BPF_SKIP is set".into());
    }
    let clang = env::var("CLANG").unwrap_or_else(|_| "clang".into());
    let mut cmd = Command::new(&clang);
    cmd.args(["-target", "bpf", "-O2", "-g", "-Wall"]);
    // The UAPI headers include <asm/types.h>, which lives under the multiarch directory.
    for dir in include_dirs() {
        cmd.arg(format!("-I{dir}"));
    }
    cmd.arg("-c").arg(SOURCE).arg("-o").arg(object);
    let output = cmd.output().map_err(|e| {
        format!("cannot run {clang} (install clang to enable the eBPF fast path): {e}")
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "{clang} failed to compile {SOURCE}: {}",
            stderr.trim()
        ));
    }
    Ok(())
}

fn include_dirs() -> Vec<String> {
    let target = env::var("TARGET").unwrap_or_default();
    let arch = target.split('-').next().unwrap_or("x86_64");
    let multiarch = match arch {
        "x86_64" => "x86_64-linux-gnu",
        "aarch64" => "aarch64-linux-gnu",
        "riscv64gc" | "riscv64" => "riscv64-linux-gnu",
        "powerpc64le" => "powerpc64le-linux-gnu",
        "s390x" => "s390x-linux-gnu",
        _ => "",
    };
    let mut dirs = Vec::new();
    if !multiarch.is_empty() {
        let dir = format!("/usr/include/{multiarch}");
        if Path::new(&dir).is_dir() {
            dirs.push(dir);
        }
    }
    dirs
}
