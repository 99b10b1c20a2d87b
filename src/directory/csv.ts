const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

export interface CsvError {
  message: string;
  line: number;
}

/**
 * Reads CSV as RFC 4180 writes it (and Active Directory exports it): fields quoted or not, "" for a quote
 * inside a quoted field, which may hold commas and line breaks; records end at CRLF, LF or CR; empty lines
 * are skipped, and so is a first line of `#TYPE ...`; every record must have the header's number of
 * fields. Each record goes to `onRecord` with the line it starts on, and none is kept. Fields are separated
 * by `delimiter`: a comma, or the semicolon Excel writes in locales whose decimal mark is a comma, or a tab.
 *
 * Hand-written rather than csv-parse, which was used before (and still checks this in the tests): it took
 * 0.5 s of a 100,000-user build's start, when nothing else can run yet, where this takes a tenth of that;
 * and its line count drifts on CRLF inside quoted fields, which made mdmgen count lines again itself.
 */
export function readCsv(text: string, onRecord: (cells: string[], line: number) => void, delimiter = ','): CsvError | undefined {
  const separator = delimiter.charCodeAt(0);
  const n = text.length;
  let i = 0;
  let line = 1;
  let width = -1;
  // Windows PowerShell's Export-Csv begins with "#TYPE <class>" unless told -NoTypeInformation; Import-Csv skips it.
  if (text.startsWith('#TYPE ')) while (i < n && text.charCodeAt(i) !== LF && text.charCodeAt(i) !== CR) i++;
  while (i < n) {
    const first = text.charCodeAt(i);
    if (first === LF || first === CR) {
      i += first === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
      line++;
      continue;
    }
    const start = line;
    const cells: string[] = [];
    for (;;) {
      if (text.charCodeAt(i) === QUOTE) {
        const opened = line;
        let cell = '';
        let from = ++i;
        for (;;) {
          const close = text.indexOf('"', i);
          if (close < 0) return { message: `the quoted field that starts on line ${opened} is never closed`, line: opened };
          line += lineBreaks(text, i, close);
          if (text.charCodeAt(close + 1) === QUOTE) {
            cell += text.slice(from, close + 1);
            i = from = close + 2;
            continue;
          }
          cell += text.slice(from, close);
          i = close + 1;
          break;
        }
        const next = text.charCodeAt(i);
        if (i < n && next !== separator && next !== LF && next !== CR) return { message: 'a field goes on after its closing quote (a quote inside a quoted field is written "")', line };
        cells.push(cell);
      } else {
        let end = i;
        for (; end < n; end++) {
          const c = text.charCodeAt(end);
          if (c === separator || c === LF || c === CR) break;
          if (c === QUOTE) return { message: 'a field holds a quote but does not start with one (quote the whole field, and write a quote inside it as "")', line };
        }
        cells.push(text.slice(i, end));
        i = end;
      }
      if (i >= n) break;
      const c = text.charCodeAt(i++);
      if (c === separator) continue;
      if (c === CR && text.charCodeAt(i) === LF) i++;
      line++;
      break;
    }
    if (width < 0) width = cells.length;
    else if (cells.length !== width) return { message: `the row on line ${start} has ${cells.length} fields where the header has ${width}`, line: start };
    onRecord(cells, start);
  }
  return undefined;
}

/** Line breaks between two offsets: LF, CR LF or a lone CR, each one. */
function lineBreaks(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === LF || (c === CR && text.charCodeAt(i + 1) !== LF)) count++;
  }
  return count;
}
