//! The uml node agent (work in progress).
