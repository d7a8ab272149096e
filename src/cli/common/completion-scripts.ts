/**
 * The completion scripts of bash, zsh and fish. Each is a thin shim: it passes
 * the words of the line to `podunit internal complete` (complete.ts, which reads
 * the command table) and offers what comes back; `@file`, `@dir` and `@command`
 * ask the shell for its own file, directory and command completion. The program
 * is called by the name on the line, so a podunit outside PATH completes too.
 */

const BASH = `# bash completion for podunit (made by 'podunit completion bash')
_podunit() {
  local cur=\${COMP_WORDS[COMP_CWORD]} line IFS=$'\\n'
  COMPREPLY=()
  while IFS= read -r line; do
    case $line in
      @file) compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -f -- "$cur")) ;;
      @dir) compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -d -- "$cur")) ;;
      @command) COMPREPLY+=($(compgen -c -- "$cur")) ;;
      ?*) COMPREPLY+=("$line") ;;
    esac
  done < <("\${COMP_WORDS[0]}" internal complete --cword "$COMP_CWORD" -- "\${COMP_WORDS[@]}" 2>/dev/null)
}
complete -F _podunit podunit
`;

const ZSH = `#compdef podunit
# zsh completion for podunit (made by 'podunit completion zsh')
_podunit() {
  local line
  local -a plain
  for line in "\${(@f)$("\${words[1]}" internal complete --cword $((CURRENT - 1)) -- "\${words[@]}" 2>/dev/null)}"; do
    case $line in
      @file) _files ;;
      @dir) _files -/ ;;
      @command) _command_names -e ;;
      ?*) plain+=("$line") ;;
    esac
  done
  (( \${#plain} )) && compadd -Q -a plain
  return 0
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _podunit "$@"
else
  compdef _podunit podunit
fi
`;

const FISH = `# fish completion for podunit (made by 'podunit completion fish')
function __podunit_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    for line in ($words[1] internal complete --cword (count $words) -- $words $cur 2>/dev/null)
        switch $line
            case @file
                __fish_complete_path $cur
            case @dir
                __fish_complete_directories $cur
            case @command
                complete -C "$cur"
            case '?*'
                echo $line
        end
    end
end
complete -c podunit -f -a '(__podunit_complete)'
`;

/** The completion script of `shell`. */
export function completionScript(shell: "bash" | "zsh" | "fish"): string {
  return { bash: BASH, zsh: ZSH, fish: FISH }[shell];
}
