//! Line diffs in unified format, for `uml fmt --check`.
//!
//! Rule files are small and formatting changes are local, so a plain
//! longest-common-subsequence table over the lines between the common prefix
//! and suffix is fast enough. Past [`MAX_TABLE`] cells the changed middle is
//! shown as one replacement instead: still a correct diff, only a longer one.

use std::fmt::Write;

/// Lines of unchanged context around each change.
const CONTEXT: usize = 3;

/// The largest LCS table built, in cells (4 bytes each).
const MAX_TABLE: usize = 1 << 22;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Keep,
    Delete,
    Insert,
}

/// A unified diff from `old` to `new`, empty if they are equal.
pub fn unified(old_name: &str, new_name: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = edit_script(&a, &b);

    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    // Walk the script, tracking positions in `a` and `b` for every op.
    let mut positions = Vec::with_capacity(ops.len());
    let (mut i, mut j) = (0, 0);
    for &op in &ops {
        positions.push((i, j));
        match op {
            Op::Keep => (i, j) = (i + 1, j + 1),
            Op::Delete => i += 1,
            Op::Insert => j += 1,
        }
    }
    let mut k = 0;
    while let Some(first_change) = ops[k..].iter().position(|&op| op != Op::Keep).map(|p| p + k) {
        // Extend the hunk while the next change is within 2 * CONTEXT kept lines.
        let mut end = first_change;
        loop {
            while end < ops.len() && ops[end] != Op::Keep {
                end += 1;
            }
            let kept = ops[end..].iter().take_while(|&&op| op == Op::Keep).count();
            if end + kept < ops.len() && kept <= 2 * CONTEXT {
                end += kept;
            } else {
                break;
            }
        }
        let start = first_change.saturating_sub(CONTEXT).max(k);
        let stop = (end + CONTEXT).min(ops.len());
        let (a_start, b_start) = positions[start];
        let a_len = ops[start..stop].iter().filter(|&&op| op != Op::Insert).count();
        let b_len = ops[start..stop].iter().filter(|&&op| op != Op::Delete).count();
        // An empty range is numbered by the line before it, as diff(1) does.
        let from = |s: usize, len: usize| if len == 0 { s } else { s + 1 };
        let _ = writeln!(out, "@@ -{},{a_len} +{},{b_len} @@", from(a_start, a_len), from(b_start, b_len));
        for (&op, &(i, j)) in ops[start..stop].iter().zip(&positions[start..stop]) {
            let (sign, line) = match op {
                Op::Keep => (' ', a[i]),
                Op::Delete => ('-', a[i]),
                Op::Insert => ('+', b[j]),
            };
            out.push(sign);
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
        k = stop;
    }
    out
}

/// The operations turning `a` into `b`, deletions before insertions within a change.
fn edit_script(a: &[&str], b: &[&str]) -> Vec<Op> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (a_mid, b_mid) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);

    let mut ops = vec![Op::Keep; prefix];
    let (n, m) = (a_mid.len(), b_mid.len());
    if n.saturating_mul(m) > MAX_TABLE {
        ops.extend(std::iter::repeat_n(Op::Delete, n));
        ops.extend(std::iter::repeat_n(Op::Insert, m));
    } else {
        // lcs[i * (m + 1) + j]: length of the LCS of a_mid[i..] and b_mid[j..].
        let width = m + 1;
        let mut lcs = vec![0u32; (n + 1) * width];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * width + j] = if a_mid[i] == b_mid[j] {
                    lcs[(i + 1) * width + j + 1] + 1
                } else {
                    lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && a_mid[i] == b_mid[j] {
                ops.push(Op::Keep);
                (i, j) = (i + 1, j + 1);
            } else if i < n && (j == m || lcs[(i + 1) * width + j] >= lcs[i * width + j + 1]) {
                ops.push(Op::Delete);
                i += 1;
            } else {
                ops.push(Op::Insert);
                j += 1;
            }
        }
    }
    ops.extend(std::iter::repeat_n(Op::Keep, suffix));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified("a", "b", "x\ny\n", "x\ny\n"), "");
    }

    #[test]
    fn a_change_is_shown_with_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        assert_eq!(
            unified("old", "new", old, new),
            "--- old\n+++ new\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
        );
    }

    #[test]
    fn distant_changes_make_separate_hunks_and_near_ones_merge() {
        let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
        let far = old.replace("2\n", "two\n").replace("19\n", "nineteen\n");
        let diff = unified("o", "n", &old, &far);
        assert_eq!(diff.matches("@@ -").count(), 2, "{diff}");
        assert!(diff.contains("@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n"), "{diff}");
        let near = old.replace("2\n", "two\n").replace("8\n", "eight\n");
        assert_eq!(unified("o", "n", &old, &near).matches("@@ -").count(), 1);
    }

    #[test]
    fn insertions_deletions_and_missing_final_newline() {
        assert_eq!(unified("o", "n", "", "a\n"), "--- o\n+++ n\n@@ -0,0 +1,1 @@\n+a\n");
        assert_eq!(unified("o", "n", "a\nb\n", "a\n"), "--- o\n+++ n\n@@ -1,2 +1,1 @@\n a\n-b\n");
        assert_eq!(
            unified("o", "n", "a", "a\n"),
            "--- o\n+++ n\n@@ -1,1 +1,1 @@\n-a\n\\ No newline at end of file\n+a\n"
        );
    }

    #[test]
    fn applying_the_script_gives_the_new_text() {
        let a: Vec<&str> = "x\na\nb\nc\nx\nd\n".split_inclusive('\n').collect();
        let b: Vec<&str> = "a\nc\ny\nd\nz\n".split_inclusive('\n').collect();
        let ops = edit_script(&a, &b);
        let (mut i, mut j, mut rebuilt) = (0, 0, Vec::new());
        for op in ops {
            match op {
                Op::Keep => {
                    assert_eq!(a[i], b[j]);
                    rebuilt.push(a[i]);
                    (i, j) = (i + 1, j + 1);
                }
                Op::Delete => i += 1,
                Op::Insert => {
                    rebuilt.push(b[j]);
                    j += 1;
                }
            }
        }
        assert_eq!((i, j), (a.len(), b.len()));
        assert_eq!(rebuilt, b);
    }
}
