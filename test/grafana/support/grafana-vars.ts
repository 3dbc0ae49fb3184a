/**
 * Grafana's template-variable substitution for the forms the generated dashboards use: `$name`,
 * `${name}` and `${name:format}` with the formats `glob` (Infinity's default: a single value as
 * is, several as `{a,b}`), `regex` (values regex-escaped; several as `(a|b)`) and `raw`. A
 * variable or format the dashboards use but this does not know throws, so a dashboard cannot
 * rely on an interpolation the tests never performed.
 */
export type VariableValues = Readonly<Record<string, string | readonly string[]>>;

const escapeRegex = (s: string) => s.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');

function format(name: string, value: string | readonly string[], fmt: string): string {
  const values = typeof value === 'string' ? [value] : value;
  if (values.length === 0) throw new Error(`variable ${name} has no value`);
  switch (fmt) {
    case 'glob':
      return values.length === 1 ? (values[0] as string) : `{${values.join(',')}}`;
    case 'raw':
      return values.join(',');
    case 'regex': {
      const escaped = values.map(escapeRegex);
      return escaped.length === 1 ? (escaped[0] as string) : `(${escaped.join('|')})`;
    }
    default:
      throw new Error(`format ${fmt} of variable ${name} is not emulated`);
  }
}

/** `text` with every variable replaced; `defaultFormat` is the data source's (glob for Infinity). */
export function interpolate(text: string, vars: VariableValues, defaultFormat = 'glob'): string {
  return text.replace(
    /\$\{([A-Za-z_][\w.]*)(?::(\w+))?\}|\$([A-Za-z_]\w*)/g,
    (_, braced: string | undefined, fmt: string | undefined, bare: string | undefined) => {
      const name = (braced ?? bare) as string;
      const value = vars[name];
      if (value === undefined) throw new Error(`variable ${name} has no value in this test`);
      return format(name, value, fmt ?? defaultFormat);
    },
  );
}
