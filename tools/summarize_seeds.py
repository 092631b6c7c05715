"""Training-seed spread of a recipe from the metrics.json of several test runs.

    python tools/summarize_seeds.py RUN1/metrics.json RUN2/metrics.json ... [--out FILE]
    python tools/summarize_seeds.py RUN/metrics.json --against SUMMARY.json

The first form prints mean, sample std and range of test bbox/segm AP and AP50
(and writes them to --out); the second places one run against a published
summary, as ``make demo`` does at its end.
"""
import argparse
import json

import _project_path  # noqa: F401  (a torch-free environment: the checkout)
from pennfudan_vit.errors import UserError, cli_entry
from pennfudan_vit.evaluation.seeds import compare_to_summary, format_summary, summarize_runs
from pennfudan_vit.fileio import atomic_write_json


@cli_entry
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('metrics', nargs='+', help='metrics.json files written by tools/test.py')
    parser.add_argument('--out', help='write the summary as JSON here')
    parser.add_argument('--against', help='a summary JSON to place the one given run against')
    args = parser.parse_args()
    if args.against:
        if len(args.metrics) != 1:
            raise UserError('--against takes exactly one metrics.json')
        try:
            with open(args.against) as f:
                summary = json.load(f)
        except (OSError, ValueError) as err:
            raise UserError(f'--against {args.against}: {err}') from None
        print('\n'.join(compare_to_summary(args.metrics[0], summary)))
        return
    summary = summarize_runs(args.metrics)
    print(format_summary(summary))
    if args.out:
        print(f'[summarize_seeds] wrote {atomic_write_json(args.out, summary)}')


if __name__ == '__main__':
    main()
