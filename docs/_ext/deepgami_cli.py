"""Sphinx extension: the ``deepgami-cli`` directive renders the CLI's own ``--help`` text.

The text comes from :func:`deepgami.cli.build_parser` at build time, so the CLI reference can
never drift from the parser. Usage in reStructuredText::

    .. deepgami-cli::

One section per subcommand (in the parser's order), each holding ``deepgami <cmd> --help``
as a literal block, after the top-level ``deepgami --help``.
"""

from __future__ import annotations

import argparse
import inspect

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.parsing import nested_parse_to_nodes

#: Help text is wrapped at this width whatever the terminal (``COLUMNS``) of the build.
HELP_WIDTH = 88


def _fixed_width(parser: argparse.ArgumentParser) -> None:
    base = parser.formatter_class

    class FixedWidth(base):  # type: ignore[misc, valid-type]
        def __init__(self, prog, *args, **kwargs):
            kwargs["width"] = HELP_WIDTH
            super().__init__(prog, *args, **kwargs)

    parser.formatter_class = FixedWidth


def subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """``(name, one-line help, parser)`` for every subcommand of ``parser``, in order."""
    found = []
    for action in parser._actions:  # argparse has no public accessor for subparsers
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                found.append((name, helps.get(name, ""), sub))
    return found


def _literal(text: str) -> nodes.literal_block:
    block = nodes.literal_block(text, text)
    block["language"] = "text"
    return block


class DeepgamiCliDirective(SphinxDirective):
    """Render ``deepgami --help`` and every ``deepgami <command> --help``."""

    has_content = False
    required_arguments = 0
    optional_arguments = 0

    def run(self) -> list[nodes.Node]:
        from deepgami import cli

        # Rebuild this page whenever the parser's source changes.
        self.env.note_dependency(inspect.getfile(cli))
        parser = cli.build_parser()
        _fixed_width(parser)

        result: list[nodes.Node] = [_literal(parser.format_help().rstrip())]
        for name, summary, sub in subcommands(parser):
            _fixed_width(sub)
            title = f"deepgami {name}"
            rst = [title, "-" * len(title), ""]
            if summary:
                # argparse help marks commands with single backticks; render them as code.
                summary = summary.replace("`", "``")
                rst += [summary[0].upper() + summary[1:] + ".", ""]
            section_nodes = nested_parse_to_nodes(
                self.state, StringList(rst, source=f"<deepgami-cli {name}>"), allow_section_headings=True
            )
            section = section_nodes[0]
            section += _literal(sub.format_help().rstrip())
            result.extend(section_nodes)
        return result


def setup(app):
    app.add_directive("deepgami-cli", DeepgamiCliDirective)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
