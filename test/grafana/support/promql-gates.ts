/**
 * Reads the dialect gates back out of a dashboard expression (written independently of
 * grafana/src/catalog-targets.ts, so a test compares the JSON with the catalog, not the code
 * with itself). A gate is
 *
 *   ` and on() (label_replace(vector(1), "dialect", "${<variable>}", "", "")
 *      and on(dialect) label_replace(vector(1), "dialect", "<value>", "", ""))`
 *
 * appended to `(<engine expression>)`; an expression without gates is the engine's as it is.
 */
const GATE =
  / and on\(\) \(label_replace\(vector\(1\), "dialect", "\$\{(\w+)\}", "", ""\) and on\(dialect\) label_replace\(vector\(1\), "dialect", "(\w+)", "", ""\)\)$/;

export interface ParsedGates {
  readonly engineExpr: string;
  readonly conditions: readonly { variable: string; value: string }[];
}

export function parseGates(expr: string): ParsedGates {
  let rest = expr;
  const conditions: { variable: string; value: string }[] = [];
  for (let m = GATE.exec(rest); m !== null; m = GATE.exec(rest)) {
    conditions.unshift({ variable: m[1] as string, value: m[2] as string });
    rest = rest.slice(0, m.index);
  }
  if (conditions.length === 0) return { engineExpr: expr, conditions };
  if (!rest.startsWith('(') || !rest.endsWith(')'))
    throw new Error(`a gated expression must wrap the engine's in parentheses: ${expr}`);
  return { engineExpr: rest.slice(1, -1), conditions };
}
