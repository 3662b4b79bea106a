// Fedify logs through LogTape.  Every record of the "fedify" category is kept in memory
// (so the control API can say what Fedify warned about during a lookup) and records at
// warning or above also go to stderr, which the Python harness keeps for failure reports.

import { configure } from "@logtape/logtape";

function render(record) {
  return record.message
    .map((part, i) => {
      if (i % 2 === 0) return String(part);
      if (part instanceof Error) return `${part.name}: ${part.message}`;
      if (typeof part === "string") return part;
      try {
        return JSON.stringify(part);
      } catch {
        return String(part);
      }
    })
    .join("");
}

export class Logbook {
  constructor(limit = 5000) {
    this.records = [];
    this.limit = limit;
    this.total = 0; // records ever written; a mark survives trimming
  }

  write(record) {
    const entry = {
      category: record.category.join("."),
      level: record.level,
      message: render(record),
      at: new Date(record.timestamp).toISOString(),
    };
    this.records.push(entry);
    this.total += 1;
    if (this.records.length > this.limit) this.records.splice(0, this.records.length - this.limit);
    if (record.level === "warning" || record.level === "error" || record.level === "fatal") {
      process.stderr.write(`[${entry.level}] ${entry.category}: ${entry.message}\n`);
    }
  }

  /** A position to read from later with since(). */
  mark() {
    return this.total;
  }

  /** Records written after `mark`, at `levels` (all levels when omitted). */
  since(mark, levels) {
    const dropped = this.total - this.records.length;
    const start = Math.max(0, mark - dropped);
    return this.records
      .slice(start)
      .filter((r) => levels === undefined || levels.includes(r.level));
  }

  clear() {
    this.records = [];
  }
}

export async function startLogging(logbook, level = "debug") {
  await configure({
    sinks: { logbook: (record) => logbook.write(record) },
    loggers: [
      { category: "fedify", sinks: ["logbook"], lowestLevel: level },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
    ],
  });
}
