"""What the check runs, read from deploy/README.md: the fenced `sh` blocks of a section, and the commands and URLs
written inline in its "More to look at" list."""
import re

WALKTHROUGH = "Compose: the whole stack on one machine"
ROLLING = "Rolling update of the workers"


def section(text, title):
    """The text under the heading `title` (any level) up to the next heading of any level."""
    match = re.search(rf"^#+ {re.escape(title)}\s*$", text, re.M)
    if not match:
        raise ValueError(f"deploy/README.md has no heading {title!r}")
    rest = text[match.end():]
    following = re.search(r"^#+ ", rest, re.M)
    return rest[:following.start()] if following else rest


def sh_blocks(text):
    """The fenced ```sh blocks, each a list of commands (backslash continuations joined, blank lines dropped)."""
    blocks = []
    for body in re.findall(r"^```sh\n(.*?)^```", text, re.M | re.S):
        commands, pending = [], ""
        for line in body.splitlines():
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            line = pending + line
            pending = ""
            if line.strip():
                commands.append(line)
        blocks.append(commands)
    return blocks


def bullets(text):
    """The lines of the section's bullet lists: `- ` lines and their indented continuations."""
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith("- "):
            inside = True
        elif not line.startswith("  "):
            inside = False
        if inside:
            lines.append(line)
    return lines


def inline_commands(text):
    """Inline code spans of the section's bullet lists that are commands: `docker compose …` and `curl …`."""
    return [s for line in bullets(text) for s in re.findall(r"`([^`]+)`", line)
            if s.startswith(("docker compose ", "curl "))]


def urls(text):
    """The <http://…> links of the section's bullet lists."""
    return [u for line in bullets(text) for u in re.findall(r"<(http://[^>]+)>", line)]


def broker_users(text):
    """The users of the amqp://USER:USER@… URLs the section's bullet lists give (local password = name)."""
    return sorted(set(re.findall(r"amqp://([\w-]+):\1@", "\n".join(bullets(text)))))


def without_comment(command):
    """The command without a trailing `# comment` (a `#` after whitespace, outside quotes: enough for the README)."""
    quote = None
    for i, c in enumerate(command):
        if c in "'\"" and quote in (None, c):
            quote = None if quote else c
        elif c == "#" and quote is None and (i == 0 or command[i - 1].isspace()):
            return command[:i].rstrip()
    return command.rstrip()


def comment(command):
    return command[len(without_comment(command)):].strip().lstrip("#").strip()
