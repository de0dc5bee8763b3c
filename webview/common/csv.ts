// The panels' CSV: one implementation, shared with the extension host (src/protocol/csv.ts).
export { csvCell, csvLine, toCsv } from '../../src/protocol/csv';
