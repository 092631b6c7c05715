"""Training-seed spread of a recipe from the metrics.json of its test runs, grouped by the
machine each ran on and pooled, with the 95% prediction interval of one new run; or one
run placed ``--against`` a published summary (as ``make demo`` does at its end).

    python tools/summarize_seeds.py METRICS.json... [--machine "CPU model" ...] [--out FILE]
    python tools/summarize_seeds.py METRICS.json --against SUMMARY.json

A run's machine is the CPU model its record holds (``machine`` or ``environment``);
``--machine`` names it for records without one: once for all, or once per file in order.
"""
import argparse
import json

from pennfudan_bench.seed_stats import compare_to_summary, format_seed_summary, seed_summary
from pennfudan_vit.errors import UserError, cli_entry
from pennfudan_vit.fileio import atomic_write_json


@cli_entry
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('metrics', nargs='+', help='metrics.json files written by tools/test.py')
    parser.add_argument('--machine', action='append', default=[], metavar='CPU_MODEL',
                        help='the CPU model of runs whose record names none: once for all '
                        'files, or once per file in their order')
    parser.add_argument('--out', help='write the summary as JSON here')
    parser.add_argument('--against', help='a summary JSON to place the one given run against')
    args = parser.parse_args(argv)
    if not args.against:
        summary = seed_summary(args.metrics, args.machine)
        print(format_seed_summary(summary))
        if args.out:
            print(f'[summarize_seeds] wrote {atomic_write_json(args.out, summary)}')
        return
    if len(args.metrics) != 1 or args.machine:
        raise UserError('--against takes exactly one metrics.json and no --machine')
    try:
        with open(args.against) as f:
            published = json.load(f)
    except (OSError, ValueError) as err:
        raise UserError(f'--against {args.against}: {err}') from None
    print('\n'.join(compare_to_summary(args.metrics[0], published, args.against)))


if __name__ == '__main__':
    main()
