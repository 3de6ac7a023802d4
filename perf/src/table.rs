//! The Markdown table writer: columns padded to their widest cell, the
//! first (text) left-aligned, the others (numbers) right-aligned.

/// A Markdown table with padded columns.
pub fn table(header: &[String; 6], rows: &[[String; 6]]) -> String {
    let mut width = header.each_ref().map(|h| h.chars().count());
    for r in rows {
        for (w, cell) in width.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String; 6]| {
        let mut s = String::from("|");
        for (i, (cell, w)) in cells.iter().zip(width).enumerate() {
            let pad = w - cell.chars().count();
            // Text left, numbers right.
            if i == 0 {
                s += &format!(" {cell}{} |", " ".repeat(pad));
            } else {
                s += &format!(" {}{cell} |", " ".repeat(pad));
            }
        }
        s + "\n"
    };
    let mut out = line(header);
    out += "|";
    for (i, w) in width.iter().enumerate() {
        out += &if i == 0 {
            format!("{}|", "-".repeat(w + 2))
        } else {
            format!("{}:|", "-".repeat(w + 1))
        };
    }
    out += "\n";
    for r in rows {
        out += &line(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_columns() {
        let h = ["a", "b", "c", "d", "e", "f"].map(String::from);
        let rows = [["long name", "1", "2", "3", "4", "5"].map(String::from)];
        let t = table(&h, &rows);
        let lines: Vec<_> = t.lines().collect();
        assert_eq!(lines[0], "| a         | b | c | d | e | f |");
        assert_eq!(lines[1], "|-----------|--:|--:|--:|--:|--:|");
        assert_eq!(lines[2], "| long name | 1 | 2 | 3 | 4 | 5 |");
    }
}
