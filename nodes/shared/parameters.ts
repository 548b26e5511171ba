import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';

/**
 * Reads one item's parameters and refuses bad values with an error that names the item and the
 * field, before anything is sent.
 */
export class ItemParameters {
	constructor(
		private readonly ctx: IExecuteFunctions,
		readonly itemIndex: number,
	) {}

	invalid(field: string, problem: string, description?: string): NodeOperationError {
		return new NodeOperationError(this.ctx.getNode(), `Item ${this.itemIndex}: ${field} ${problem}`, {
			itemIndex: this.itemIndex,
			description,
		});
	}

	raw(name: string, fallback?: unknown): unknown {
		return this.ctx.getNodeParameter(name, this.itemIndex, fallback);
	}

	/** Text, or a number written as text; trimmed; undefined when empty. */
	optionalText(name: string, field: string): string | undefined {
		const value = this.raw(name, '');
		if (value === undefined || value === null) return undefined;
		if (typeof value === 'number' && Number.isFinite(value)) return String(value);
		if (typeof value !== 'string') {
			throw this.invalid(field, `must be text, but it is ${describeType(value)}`);
		}
		const trimmed = value.trim();
		return trimmed === '' ? undefined : trimmed;
	}

	requiredText(name: string, field: string, description?: string): string {
		const value = this.optionalText(name, field);
		if (value === undefined) throw this.invalid(field, 'is empty', description);
		return value;
	}

	/** A JSON field given as text or, through an expression, as an already parsed value. */
	optionalJson(name: string, field: string, expected: 'object' | 'array'): unknown {
		let value = this.raw(name, '');
		if (typeof value === 'string') {
			if (value.trim() === '') return undefined;
			try {
				value = JSON.parse(value);
			} catch (error) {
				throw this.invalid(field, `is not valid JSON: ${(error as Error).message}`);
			}
		}
		if (value === undefined || value === null) return undefined;
		const actual = Array.isArray(value) ? 'array' : typeof value;
		if (actual !== expected) {
			throw this.invalid(field, `must be a JSON ${expected}, but it is ${describeType(value)}`);
		}
		return value;
	}

	/** A whole number within bounds, for options such as concurrency and timeouts. */
	boundedInteger(name: string, field: string, fallback: number, min: number, max: number): number {
		const value = this.raw(name, fallback);
		if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
			throw this.invalid(field, `must be a whole number from ${min} to ${max}`);
		}
		return value;
	}
}

export function describeType(value: unknown): string {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'an array';
	if (typeof value === 'object') return 'an object';
	return `a ${typeof value}`;
}
