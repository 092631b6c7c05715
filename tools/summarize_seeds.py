"""Training-seed spread of a recipe from the metrics.json of its test runs, or one run
placed ``--against`` a published summary (as ``make demo`` does at its end)."""
import argparse
import json

from pennfudan_bench.seed_stats import compare_to_summary, format_seed_summary, seed_summary
from pennfudan_vit.errors import UserError, cli_entry
from pennfudan_vit.fileio import atomic_write_json


@cli_entry
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('metrics', nargs='+', help='metrics.json files written by tools/test.py')
    parser.add_argument('--out', help='write the summary as JSON here')
    parser.add_argument('--against', help='a summary JSON to place the one given run against')
    args = parser.parse_args(argv)
    if not args.against:
        summary = seed_summary(args.metrics)
        print(format_seed_summary(summary))
        if args.out:
            print(f'[summarize_seeds] wrote {atomic_write_json(args.out, summary)}')
        return
    if len(args.metrics) != 1:
        raise UserError('--against takes exactly one metrics.json')
    try:
        with open(args.against) as f:
            print('\n'.join(compare_to_summary(args.metrics[0], json.load(f))))
    except (OSError, ValueError) as err:
        raise UserError(f'--against {args.against}: {err}') from None


if __name__ == '__main__':
    main()
