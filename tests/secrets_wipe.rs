//! Key material is wiped before the library frees it.
//!
//! This test binary's global allocator looks, while armed, inside every
//! block as it is freed (or moved by a reallocation) for two markers cut
//! from a client key: a run of its PEM text across a line break (only the
//! library's own copies of the PEM hold it: the PEM decoder of
//! rustls-pki-types strips the line breaks into a scratch buffer it frees
//! unwiped, which is out of the library's hands), and 32 bytes of the
//! decoded DER (the private scalar of the P-256 key). Through the C ABI the
//! key goes in as PEM bytes and as a file, to a successful connect and to
//! a failed one (a mismatched key); no freed block may hold either marker.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use common::{Channel, Options, SimBuilder, Status};

const MARKER_LEN: usize = 32;

static ARMED: AtomicBool = AtomicBool::new(false);
// Written before arming, only read while armed.
static mut MARKERS: [[u8; MARKER_LEN]; 2] = [[0; MARKER_LEN]; 2];
static FOUND: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

/// One test at a time arms the allocator.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

struct Scanning;

fn scan(ptr: *const u8, size: usize) {
    if !ARMED.load(Ordering::Acquire) || size < MARKER_LEN {
        return;
    }
    // SAFETY: the block is live (about to be freed) and `size` bytes long.
    let block = unsafe { std::slice::from_raw_parts(ptr, size) };
    // SAFETY: MARKERS is only written while the allocator is disarmed.
    let markers = unsafe { &*std::ptr::addr_of!(MARKERS) };
    for (marker, found) in markers.iter().zip(&FOUND) {
        if block.windows(MARKER_LEN).any(|w| w == marker) {
            found.fetch_add(1, Ordering::Relaxed);
        }
    }
}

// SAFETY: delegates every allocation to the system allocator; it only
// reads blocks it is handed back, before they are released.
unsafe impl GlobalAlloc for Scanning {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        scan(ptr, layout.size());
        System.dealloc(ptr, layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !ARMED.load(Ordering::Acquire) {
            return System.realloc(ptr, layout, new_size);
        }
        // Always move while armed, so the old block is scanned as freed
        // memory (a real realloc may leave it behind).
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        let new = System.alloc(new_layout);
        if !new.is_null() {
            std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Scanning = Scanning;

/// The two markers of `key_pem` (a P-256 PKCS#8 key as rcgen writes it).
fn markers(key_pem: &str) -> [[u8; MARKER_LEN]; 2] {
    let lines: Vec<&str> = key_pem.lines().collect();
    assert!(lines.len() >= 4 && lines[1].len() >= 20, "an unexpected key PEM");
    let across = format!("{}\n{}", &lines[1][lines[1].len() - 16..], &lines[2][..15]);
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(key_pem.as_bytes())
        .expect("a PKCS#8 key");
    let der = der.secret_pkcs8_der();
    // PKCS#8 P-256: ... 04 20 <32-byte private scalar> at offset 36.
    assert_eq!(&der[34..36], &[0x04, 0x20], "the private scalar's OCTET STRING");
    let mut pem_marker = [0; MARKER_LEN];
    pem_marker.copy_from_slice(across.as_bytes());
    let mut der_marker = [0; MARKER_LEN];
    der_marker.copy_from_slice(&der[36..68]);
    [pem_marker, der_marker]
}

use rustls_pki_types::pem::PemObject;

#[test]
fn client_keys_are_wiped_before_they_are_freed() {
    let _one = ONE_AT_A_TIME.lock().unwrap();
    let sim = SimBuilder::auth("client-cert").start();
    let ready = &sim.ready;
    let chain = std::fs::read(&ready.client_certificate).unwrap();
    let key = std::fs::read_to_string(&ready.client_key).unwrap();
    let other_key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    let other_chain = params.self_signed(&other_key).unwrap().pem();
    let markers = markers(&key);
    // SAFETY: disarmed: nothing reads MARKERS now.
    unsafe { MARKERS = markers };
    ARMED.store(true, Ordering::Release);

    let outcome = std::panic::catch_unwind(|| {
        // PEM bytes: a channel that works, then freed.
        let options = Options::new().ca(&ready.ca).cert_pem(&chain, key.as_bytes());
        let channel = Channel::connect("127.0.0.1", ready.manager_port.into(), &options).unwrap();
        assert_eq!(channel.whoami().client_certificate_subject, "minknow-sim client");
        drop(channel);
        drop(options);
        // Files.
        let options =
            Options::new().ca(&ready.ca).cert(&ready.client_certificate, &ready.client_key);
        let channel = Channel::connect("127.0.0.1", ready.manager_port.into(), &options).unwrap();
        drop(channel);
        drop(options);
        // The key with a chain it does not belong to: refused before any I/O.
        let options = Options::new().ca(&ready.ca).cert_pem(other_chain.as_bytes(), key.as_bytes());
        let failure =
            Channel::connect("127.0.0.1", ready.manager_port.into(), &options).unwrap_err();
        assert_eq!(failure.status, Status::KeyMismatch, "{}", failure.message);
        drop(options);
    });
    ARMED.store(false, Ordering::Release);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    let pem_found = FOUND[0].load(Ordering::Relaxed);
    let der_found = FOUND[1].load(Ordering::Relaxed);
    assert_eq!(pem_found, 0, "{pem_found} freed blocks still held the key's PEM text");
    assert_eq!(der_found, 0, "{der_found} freed blocks still held the key's private scalar");
}
